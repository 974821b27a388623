from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from pipeline.images.procedural import PALETTE, SETTINGS, SHAPES, _icon_mask, draw_scene, drawable, render_scene
from pipeline.records import SceneObject, SceneSpec
from pipeline.rng import rng_for
from pipeline.world.simulate import COLOURS


def _components(png: bytes, rgb) -> int:
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    mask = np.all(px == np.array(rgb, dtype=np.uint8), axis=-1)
    return int(ndimage.label(mask)[1])


SOME_ICONS = ("icon:laptop", "icon:tablet-alt", "icon:car-side", "icon:bicycle", "icon:clock", "icon:gift")


def test_palette_is_distinct_from_backgrounds():
    assert set(PALETTE) == set(COLOURS)
    bg = {c for upper, lower, _ in SETTINGS.values() for c in (upper, lower)}
    assert not bg & set(PALETTE.values())


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_is_one_blob_per_instance_in_its_colour(shape):
    for count in (1, 4):
        spec = SceneSpec(setting="park", caption="x", objects=[SceneObject(name=shape, shape=shape, colour="red", count=count)])
        assert _components(render_scene(spec, 256, f"k{count}"), PALETTE["red"]) == count


def test_random_scenes_show_exactly_their_spec():
    rng = rng_for(0, "test-scenes")
    for k in range(60):
        colours = [COLOURS[int(i)] for i in rng.choice(len(COLOURS), 3, replace=False)]
        shapes = [(*SHAPES, *SOME_ICONS)[int(i)] for i in rng.choice(len(SHAPES) + len(SOME_ICONS), 3)]
        objs = [SceneObject(name=s, shape=s, colour=c, count=int(rng.integers(1, 5))) for s, c in zip(shapes, colours)]
        spec = SceneSpec(setting=list(SETTINGS)[k % len(SETTINGS)], objects=objs, caption="x")
        png = render_scene(spec, 320, f"scene-{k}")
        for o in objs:
            assert _components(png, PALETTE[o.colour]) == o.count, (o, spec.setting)
        absent = set(COLOURS) - set(colours)
        assert all(_components(png, PALETTE[c]) == 0 for c in absent)


def test_the_palette_png_has_the_pixels_of_the_rgb_drawing():
    rng = rng_for(0, "lossless")
    for k in range(30):
        objs = [SceneObject(name=s, shape=s, colour=COLOURS[int(rng.integers(len(COLOURS)))], count=int(rng.integers(1, 4)))
                for s in (SHAPES[int(i)] for i in rng.choice(len(SHAPES), 4))]
        spec = SceneSpec(setting=list(SETTINGS)[k % len(SETTINGS)], objects=objs, caption="x")
        decoded = Image.open(io.BytesIO(render_scene(spec, 320, f"s{k}")))
        assert decoded.mode == "P"
        assert np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(draw_scene(spec, 320, f"s{k}", mode="RGB")))


def test_rendering_is_byte_identical_and_keyed():
    spec = SceneSpec(setting="beach", caption="x", objects=[SceneObject(name="kite", shape="kite", colour="blue", count=2)])
    assert render_scene(spec, 128, "a") == render_scene(spec, 128, "a")
    assert render_scene(spec, 128, "a") != render_scene(spec, 128, "b")


def test_every_lexicon_object_is_drawable(lex):
    assert all(drawable(shape) for shape in lex.objects.values())
    assert not drawable("icon:no-such-icon") and not drawable("blob")


def test_objects_with_an_icon_are_one_blob_per_instance_and_look_different(lex):
    """Drawn as itself: one blob per instance in every cell size a scene uses, and a laptop, a tablet and a car are
    not the same picture."""
    icons = sorted({s for s in lex.objects.values() if s.startswith("icon:")})
    assert len(icons) >= 40
    for shape in icons:
        for count in (1, 4, 6):
            spec = SceneSpec(setting="office", caption="x", objects=[SceneObject(name=shape, shape=shape, colour="teal",
                                                                                  count=count)])
            assert _components(render_scene(spec, 480, f"{shape}{count}"), PALETTE["teal"]) == count, (shape, count)
    masks = {s: np.asarray(_icon_mask(s.removeprefix("icon:"), 64, 56), dtype=bool) for s in icons}
    for a in icons:
        for b in icons:
            if a < b:
                assert (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum() < 0.85, (a, b)
