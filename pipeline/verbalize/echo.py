"""Sentences that take up the news in its own terms: how the teller felt about this very thing, and what the
assistant says and asks back about it.

Generic discourse (`phrases`) fits any news of a kind and so repeats across personas; these name the news's
place, people, goal or step, so a reply engages with what was said and two replies seldom share their words.
Slots are the told event's terms (`Said.terms`), in the teller's first person; the assistant's pools are filled
with `grammar.second_person` of them. A template that names `{names}` is only said of news with people in it.
"""

from __future__ import annotations

from pipeline.verbalize.phrases import reworded

# the teller's feeling about the news, by kind (in place of a feeling that fits any news of its valence)
FELT = reworded({
    "activity": ("[Being|Spending time] at {place}{with_} was [exactly|just|precisely] what I [needed|was after].",
                 "[I'm|I am] [still|honestly still] [smiling|grinning] about [the time|the day] at {place}.",
                 "[I'd|I would] go back to {place} [in a heartbeat|if I could|any time].",
                 "{place} [was|felt like] [just|exactly] my kind of place.",
                 "I [could have|would have] stayed at {place} [all day|for hours|forever]."),
    "habit": ("[I|Honestly, I] [look forward to|count on] [the chance to|getting to] {activity} [each week|every week].",
              "[Getting to|Making time to] {activity} [keeps|is keeping] my week [steady|grounded|on track]."),
    "habit_start": ("[I|Honestly, I] [hope|think] [I can|I'll] [keep it up|stick with it] and {activity} [for months|for a long "
                    "while|every week].",),
    "habit_end": ("[I|Honestly, I] [won't|don't think I'll] miss having to {activity} [every week|on a schedule][ much| at all|].",),
    "goal_start": ("[I'm|I am] [so|really] [excited|fired up|eager] to {goal}[ at last| finally|].",
                   "[I've|I have] wanted to {goal} for [ages|years|a long time]."),
    "goal_progress": ("The {key} [goal|thing|plan] [finally|actually|really] feels [real|doable|within reach] now.",
                      "[I'm|I am] [proud|pleased] [that|how] the {key} [goal|plan|project] is [going|coming along]."),
    "goal_completed": ("[I|Honestly, I] [still|really] can't believe the {key} [goal|project] is [done|finished|behind me].",
                       "[All|Every bit of] the [work|effort|time] on the {key} [goal|project] [paid off|was worth it]."),
    "goal_abandoned": ("Letting go of the {key} [goal|plan] [still|honestly] [stings|feels strange|hurts] [a bit|a little].",),
    "relationship_closer": ("{name} [really|truly] [means|matters] [a lot|so much|the world] to me.",
                            "[I'm|I am] [so|really] [grateful|glad] [for|to have] {name}[ in my life|]."),
    "relationship_further": ("I [miss|keep thinking about] how things [used to be|were] with {name}.",
                             "[I'm|I am] not sure [what to do|how to fix things|where I stand] with {name}[ now| anymore|]."),
    "preference_shift": ("{New_cap} just [suits|fits] me [better|more] [now|these days].",
                         "[I|Honestly, I] [don't|do not] [miss|think about] {old} [at all|much|anymore]."),
})
# what the assistant says about the news, by kind (life events by valence, 1 or -1)
ECHO = reworded({
    "activity": ("So you {activity} at {place}{with_}; [that sounds like|what] [a lovely|a great|a fun] [way to spend the "
                 "time|outing|change of pace].",
                 "[I can|I could] [just|easily|totally] picture you at {place}{with_}[, having a great time|, in your element|].",
                 "{place}[ sounds like| seems like| must have been] [the right|a good|the perfect] [spot|place|setting] for "
                 "[it|that|a day like that].",
                 "[It's nice|It's lovely|How nice] that {names_were} [there|along|with you][ too| as well|].",
                 "[Not everyone gets|Not many people get] to say they {activity} at {place}.",
                 "[It sounds like|It seems like] {place} [was|turned out to be] [a great|the perfect|a lovely] [choice|call|pick] for "
                 "[that|it].",
                 "[I'm|I am] [glad|happy] you [got to|managed to] [get out|get away] to {place}{with_}.",
                 "[A trip|An outing] to {place}{with_} [is|sounds like] [exactly|just] [the thing|what a week needs]."),
    "habit": ("[Making time to|Finding time to] {activity} every week [is|sounds like] [a lovely|a good|a grounding] "
              "[ritual|habit|thing to keep].",
              "[I like|I love] that you still {activity} [like clockwork|every week|without fail].",
              "Another week, another chance to {activity}; [that kind of|that sort of] [rhythm|routine] [is|can be] "
              "[grounding|steadying|good for you]."),
    "habit_start": ("[Starting to|Deciding to] {activity} [every week|regularly|as a routine] [sounds like|seems like] [a "
                    "great|a lovely|a smart] [move|plan|choice].",
                    "[I hope|Here's hoping] it [sticks|lasts] and you [keep|get] to {activity} [for a long time|for months|every "
                    "week]."),
    "habit_end": ("So you won't {activity} [every week|on a schedule] [anymore|for now].",
                  "[Stepping back from|Dropping] a [weekly|regular] [slot|routine] to {activity} [makes sense|is fair|is fine] "
                  "if it no longer fits your week."),
    "goal_start": ("[Wanting|Deciding] to {goal} is [a great|an exciting|a bold] [goal|ambition|thing to aim for].",
                   "[I'll|I will] [be cheering you on|be rooting for you] [as you|while you] [work to|set out to] {goal}.",
                   "[So|Right, so] the plan is to {goal}; [I love|I like] [that|it]."),
    "goal_progress": ("[So|Right, so] you {step}[ already|]; that's [real|solid|proper] progress on the {key} [goal|front|plan].",
                      "[The|Your] {key} [goal|project|plan] [is|seems to be] [really|clearly|properly] [moving|taking "
                      "shape|coming along][ now|].",
                      "[I'm|I am] [glad|happy] you {step}: [one|another] [step|milestone] [done|down] for the {key} "
                      "[goal|project]."),
    "goal_completed": ("You {done}, so the {key} [goal|project] is [officially|finally|properly] [done|finished|complete].",
                       "[Finishing|Completing|Wrapping up] the {key} [goal|project] [deserves|calls for|is worth] [a "
                       "celebration|a proper treat|a toast].",
                       "[I'm|I am] [so|really] [proud of|impressed by|happy for] you for [seeing the {key} goal "
                       "through|getting the {key} goal done]."),
    "goal_abandoned": ("[Stepping back from|Letting go of|Walking away from] the {key} [goal|plan] [makes sense|sounds "
                       "sensible|is fair] if {why}.",
                       "[Dropping|Pausing] the {key} [goal|plan] [doesn't|does not] [undo|erase|cancel] [what you learned|the "
                       "effort you put in|the progress you made]."),
    "relationship_closer": ("[It's lovely|It's so nice|How lovely] that {why}.",
                            "[It sounds like|Clearly|So] your {role} {name} [really|truly] [came through|showed up|was there] "
                            "for you.",
                            "People like {name} are [worth|the ones worth] [holding on to|keeping close]."),
    "relationship_further": ("[Drifting from|Feeling distant from] your {role} {name} [can be|sounds|must be] "
                             "[hard|painful|unsettling].",
                             "[It makes sense|It's understandable] to feel [off|unsettled|a bit lost] [about it|] since {why}."),
    "preference_shift": ("[So|Right, so] {new} is your [new|current] [favourite|go-to] {noun}[ now|], [not|instead of] {old}.",
                         "[Switching|Moving|Going] from {old} to {new} [sounds like|seems like] [a fun|an interesting|a good] "
                         "[change|shift|move].",
                         "[I'll|I will] [remember|keep in mind|make a note] that {new} [comes first|is the favourite|is "
                          "top of the list] [now|these days|from here "
                         "on]."),
    "life_event": {1: ("[It's wonderful|It's huge|It's big news] that you {text}.",
                       "[You|So you] {text}; [that's|what] [a big|a real|a huge] [moment|milestone|step]."),
                   -1: ("[I'm|I am] [so|really|truly] sorry you {text}.",
                        "[Having|Going through] [all that|something like that] [takes|is] [a lot|a toll|hard]; be [gentle|patient] "
                        "with yourself.")},
})
# what the assistant asks back about the news, by kind (life events by valence)
ASK_ABOUT = reworded({
    "activity": ("[Would you|Will you] go back to {place}[ soon| sometime| again|]?",
                 "[What did {names} think of it|Did {names} enjoy it as much as you did]?",
                 "Was {place} [busy|packed|quiet] [when you went|while you were there]?",
                 "What was the [best|nicest] [part|bit] of {place}?", "Had you been to {place} before?"),
    "habit": ("What do you [like|love|enjoy] most about [getting to|making time to] {activity}?",),
    "habit_start": ("What made you [want|decide] to {activity} [every week|regularly|as a routine]?",),
    "habit_end": ("Will you still {activity} [now and then|once in a while|sometimes]?",),
    "goal_start": ("What's [the first step|your first move|step one] [for|on] the {key} [goal|plan]?",),
    "goal_progress": ("What's [next|the next step|the next milestone] for the {key} [goal|project|plan]?",),
    "goal_completed": ("What [will you|do you want to] [do|tackle|aim for] now that you {done}?",),
    "goal_abandoned": ("Is there [anything|something] [else|new] you'd like to [try|do|aim for] [instead of|in place of] the "
                       "{key} [goal|plan]?",),
    "relationship_closer": ("Have you told {name} how much it meant?", "[Are you|Will you be] seeing {name} [again soon|soon|before "
                            "long]?"),
    "relationship_further": ("Do you [think you'll|want to] [reach out to|talk to] {name} [about it|at some point|soon]?",),
    "preference_shift": ("What do you [like|love|enjoy] [most|best] about {new}?", "Do you [miss|still think about] {old} [at "
                         "all|sometimes]?"),
    "life_event": {1: ("How does it feel now that you {text}?",), -1: ("How are you [holding up|coping] since you {text}?",)},
})
