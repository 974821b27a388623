"""The embedded default models: a byte-level BPE tokenizer trained on the run's own text, a tiny
Qwen2-architecture model built from a config, and for the multimodal path a tiny vision-language model
(a CLIP vision tower and a projector in front of the same Qwen2 language model, LLaVA's layout), so
training runs here with no download.

It proves the data flows end to end and that training reacts to it; it is not a useful model. The
tokenizer knows the chat template (ChatML, with `{% generation %}` around what the assistant writes,
so the trainer can put the loss on assistant tokens only) and PersonaVLM's tags as single tokens that
survive decoding with `skip_special_tokens` (the reward reads them).

Why LLaVA's layout and not Qwen2-VL's for the tiny multimodal model: transformers' Qwen2-VL processors
need torchvision, and PyPI only has torchvision builds that link CUDA torch, not the CPU torch this
project pins. The training code is the same for both (AutoProcessor, AutoModelForImageTextToText and
TRL's vision collator), so Qwen2.5-VL-7B runs through it on GPU machines.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]
TAGS = ["<think>", "</think>", "<answer>", "</answer>", "<retrieve>", "</retrieve>"]
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\n' }}"
    "{%- else %}{{- message['content'] + '<|im_end|>\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)
# The same conversation with content as a list of parts ({"type": "image"} or {"type": "text", "text": ...}),
# as processors and TRL's vision collator pass it; an image part becomes the processor's <image> token.
VL_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\n' }}"
    "{%- if message['role'] == 'assistant' %}{% generation %}"
    "{%- for part in message['content'] %}{%- if part['type'] == 'text' %}{{- part['text'] }}{%- else %}{{- '<image>' }}"
    "{%- endif %}{%- endfor %}{{- '<|im_end|>' }}{% endgeneration %}{{- '\n' }}"
    "{%- else %}"
    "{%- for part in message['content'] %}{%- if part['type'] == 'text' %}{{- part['text'] }}{%- else %}{{- '<image>' }}"
    "{%- endif %}{%- endfor %}{{- '<|im_end|>\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)


def train_tokenizer(texts: Iterable[str], out: Path, vocab_size: int = 2048):
    """A byte-level BPE tokenizer over `texts`, saved to `out` as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(texts, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  bos_token=None, additional_special_tokens=["<|im_start|>", "<image>"])
    # single tokens, but not "special": decoding with skip_special_tokens (as TRL does) must keep them
    tok.add_tokens(TAGS)
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(out)
    return tok


def tiny_qwen2(tokenizer, out: Path, hidden: int = 64, layers: int = 2, seed: int = 0):
    """A randomly initialised Qwen2 causal LM sized for CPU tests, saved to `out`."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    model = Qwen2ForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return model


def tiny_vl(tokenizer, out: Path, hidden: int = 64, layers: int = 2, seed: int = 0, image_side: int = 56):
    """A randomly initialised vision-language model and its processor (images resized to `image_side`
    pixels, (side / 14)^2 image tokens each), saved to `out`; loads with AutoModelForImageTextToText."""
    import torch
    import transformers as tf

    torch.manual_seed(seed)
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    config = tf.LlavaConfig(
        vision_config=tf.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                       image_size=image_side, patch_size=14, projection_dim=32),
        text_config=tf.Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                                num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                                max_position_embeddings=4096, tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
                                eos_token_id=tokenizer.eos_token_id, bos_token_id=None),
        image_token_index=image_token, vision_feature_layer=-1, vision_feature_select_strategy="default")
    model = tf.LlavaForConditionalGeneration(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    processor = tf.LlavaProcessor(
        image_processor=tf.CLIPImageProcessor(size={"shortest_edge": image_side}, crop_size={"height": image_side, "width": image_side}),
        tokenizer=tokenizer, patch_size=14, vision_feature_select_strategy="default", image_token="<image>",
        num_additional_image_tokens=1, chat_template=VL_CHAT_TEMPLATE)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return model
