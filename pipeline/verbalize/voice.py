"""The user's voice: the sentences that show each Big Five pole, how to find them again, and what the assistant
says back to a pole it has seen.

Each trait has sentences for its low and its high pole, written as variant templates (`vary`): a persona says one
with a chance that grows with how far the session's true trait is from the middle. A sentence can be recognised in
any of its variants (`find_voice`), which is what Persona-MME's alignment gold counts (`trait_counts`) and what its
certificate swaps for the other pole's sentence of the same rank (`restyle`). No variant of one sentence matches
another, and both poles of a trait have as many sentences, so the count and the swap are exact.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from pipeline.records import Session
from pipeline.verbalize.phrases import REPLY_LEADS, USER_LEADS, reworded
from pipeline.verbalize.vary import Finder, canonical, with_leads

# about news the user tells; a worrier's sentences follow only unsettling news
NEWS_TAILS = {
    "extraversion": (
        ("I kept it [low-key|quiet|small|simple], [which suits me|and that suits me fine|just how I like it].",
         "A [quiet|calm|peaceful] [one|affair|outing], [which|and that] [suits me|is my kind of thing].",
         "[Nice|Good|Lovely] to have [some|a bit of] [time|space] to myself [for once|again|].",
         "I didn't [tell many people|tell a lot of people|mention it to many people][, honestly|, to be fair|].",
         "I [slipped|snuck|crept] away before it got too [busy|crowded|loud].",
         "[Small|Low-key] and [quiet|calm] is [how I like it|my kind of thing|the way I like things].",
         "I [mostly|largely] kept to myself[ the whole time| through it all|].",
         "[One-on-one|Just a couple of us] is [more my speed|more my thing|what I prefer], [really|to be honest|anyway].",
         "I'll keep this one [between us|between you and me|to myself][ for now|].",
         "[Crowds|Big groups] [wear me out|drain me|tire me out], so that was [plenty|enough|more than enough].",
         "[I|Honestly, I] [went|headed] home [early|right after|as soon as I could] [to recharge|for some peace|to be on my own].",
         "[Just|Only] [me|me and my thoughts|me, myself and I] [for most of it|the whole time|mostly], [which was|and it was] "
          "[bliss|perfect|exactly right].",
         "[I'm|I am] [keeping|going to keep] [the details|it|this one] [to myself|private|quiet] [for a while|for now|mostly].",
         "[I didn't|I did not] [need|want] [an audience|a crowd|company] [for it|to enjoy it|at all].",
         "[A bit of|Some] [solitude|alone time|peace and quiet] [afterwards|after that|to finish] [did me good|was just what I "
          "needed|felt right]."),
        ("I've already [told|texted] [all my friends|everyone I know|half my friends][ about it|]!",
         "[Next time|On the next one] I'm [bringing|dragging along] the whole [crew|gang|group]!",
         "I [couldn't|could not] stop [talking|chattering] about it[ for hours| afterwards|]!",
         "I ended up [chatting|talking|laughing] with half the [room|place|crowd]!",
         "I'm already [planning|organising] a [group outing|get-together|big meet-up] around it!",
         "[Everyone|Everybody] I know is [going to|about to|gonna] hear about this!",
         "I [love|adore] being around [people|folks] like that!",
         "I made [two|a couple of|a few] new [friends|pals] [out of it|there|that way]!",
         "The more [people|company|friends] the better, [honestly|seriously|I say]!",
         "I [texted|messaged|pinged] the [group chat|whole group] [straight away|right away|the second it happened]!",
         "[I|We] [stayed|hung around] [chatting|talking] [for ages|for hours|until they closed][ with everyone| afterwards|]!",
         "[Already|I've already] [roped in|invited|recruited] [a bunch of|half a dozen|loads of] [friends|people] for the [next one|next "
          "round|sequel]!",
         "[The best part|My favourite part|What made it] was [all the people|the crowd|meeting everyone] [there|around me|I bumped into]!",
         "[I|Honestly, I] [posted|shared|put] [it|the whole thing] [everywhere|on every group chat|all over my socials] [straight "
          "after|the moment I got home|right away]!",
         "[Can't|I can't] [wait|wait any longer] to [give|share with] [everyone|the whole gang|all my friends] [the story|the full "
          "story|all the details]!"),
    ),
    "agreeableness": (
        ("[Anyway|Whatever|So], that's [that|the end of it].",
         "That's [it|all], [really|basically|nothing more to say].",
         "Not that [it's anyone's business|anyone needs to know|it matters to anyone else].",
         "[Moving on|Onwards][, then|, I guess|].",
         "Not that [anyone|anybody] [asked|wanted to know|cares].",
         "[People|Others] can think what they [like|want|please].",
         "I don't [much|really] care what [others|other people|anyone else] [make of|think of] it.",
         "[Take it or leave it|Like it or not][, I suppose|, honestly|].",
         "Don't [try to|bother trying to] talk me out of it[, either| this time|].",
         "I did it [my way|my own way][, as usual| and that's that|].",
         "[Frankly|Honestly|To be blunt], [what others think|what other people think|whatever anyone else thinks] [isn't|is not] my "
          "[problem|concern|business].",
         "[I didn't|I did not] [ask|check with|consult] [anyone|a soul|anybody] [first|beforehand|about it].",
         "[If anyone doesn't|If people don't|If someone doesn't] like it, [tough|too bad|that's on them].",
         "[I'm|I am] [not|hardly] [going to|about to] [apologise|say sorry] [for it|to anyone|for that].",
         "[My way|My rules|My decision], [my|and my] [business|call|problem], [end of story|full stop|simple as that]."),
        ("Thanks for [always|forever] [listening|being there|hearing me out]!",
         "[Hope|I hope] your [day|week] is going [well|nicely|okay] too!",
         "You're the [best|sweetest|kindest], [really|honestly|truly].",
         "Sending [a hug|a smile|my love|a wave] your way :)",
         "Thanks for being so [patient|kind|lovely] with me[ always| as ever|].",
         "I hope [everyone|everybody] around me is doing [okay|alright|well] too.",
         "It means [a lot|so much|the world] that I can [tell|share with] you this.",
         "I'm [grateful|so thankful|really thankful] for the [people|folks|friends] who helped.",
         "Sorry for [rambling|going on|babbling], and thank you[ for listening|].",
         "Sending [good vibes|positive vibes|warm thoughts] your way[ too|].",
         "[I|Honestly, I] [hope|really hope] [everyone|all of them|the others] [enjoyed|liked|got something out of] it as much as I did.",
         "[Big|Huge|Massive] [thanks|thank you] to [everyone|all the people|the lovely people] who [helped|made it happen|pitched in]!",
         "[I|We] [made sure|checked that] [everyone|everybody] [felt|was] [included|welcome|looked after][ too| as well|].",
         "[It was|That was] [so|really|truly] [kind|sweet|generous] of [everyone|them|the people there][, honestly|].",
         "[I'd|I would] [love|like] to [return the favour|do something nice back|repay the kindness] [soon|somehow|one day]."),
    ),
    "conscientiousness": (
        ("[Didn't|Never] plan any of it, [just went with it|just rolled with it|just let it happen].",
         "No list, no [schedule|plan], and [that's fine|that's okay|I'm fine with that].",
         "I'll [sort out|figure out|deal with] the [details|rest|logistics] as I go.",
         "I [totally|completely] forgot to [prepare|get ready], but it worked out[ somehow| anyway|].",
         "I'm [winging it|improvising], [as usual|as always|like I always do].",
         "I [lost track of|forgot about] the time, [oops|whoops|as usual].",
         "[Plans|Schedules] are overrated [anyway|if you ask me|honestly].",
         "I'll [deal with|sort] the [rest|mess|details] later[, probably|, maybe|].",
         "I [nearly|almost] forgot about it [altogether|completely|entirely].",
         "The [details|specifics] were [fuzzy|a blur|hazy], but whatever.",
         "[I|Honestly, I] [showed up|turned up|rolled in] [late|a bit late|later than planned][, as usual| again|].",
         "[Totally|Completely] [unplanned|improvised|spur of the moment], [which is|and that's] [how I roll|my style|how I like it].",
         "[I|Of course I] [forgot|left behind|misplaced] [half my stuff|a few things|something important] [but whatever|and survived|and "
          "it was fine].",
         "[No idea|Not sure|Who knows] [what comes next|when the next one is|what I'll do next]; [I'll see|we'll see|I'll figure it out].",
         "[My|The] [notes|receipts|details] are [somewhere|around somewhere|lost in my bag], [probably|I think|maybe]."),
        ("I'd [put|written] it [on|into] my [list|calendar|to-do list] [in advance|ahead of time|well beforehand].",
         "All [planned|mapped] out, [down to the minute|to the last detail|step by step].",
         "[Ticked|Crossed] it off my [list|checklist] right after.",
         "I'd [checked|double-checked] everything [twice|carefully] [beforehand|in advance|before I went].",
         "I [already|have already] [booked|scheduled|pencilled in] the next one.",
         "I [wrote up|typed up] [notes|a few notes|a summary] as soon as I got [home|back].",
         "I set a [reminder|calendar alert] so I don't lose [momentum|track|the thread].",
         "Everything went [exactly|precisely] [to schedule|to plan|as scheduled].",
         "I'd [packed|prepared|laid out] everything [well ahead of time|the day before|in good time].",
         "I keep a [spreadsheet|log|tracker] for this [sort|kind] of thing.",
         "[I|Honestly, I] [logged|recorded|noted] [every detail|everything|the whole thing] [in my planner|in my notes|in a spreadsheet] "
          "[afterwards|straight after|that same day].",
         "[I'd|I had] [timed|scheduled|mapped out] [every step|each part|the whole thing] [in advance|beforehand|ahead of time].",
         "[Everything|All of it] went [according to plan|as planned|to the letter], [which|and that] [felt great|was satisfying|made me "
          "happy].",
         "[Already|I've already] [updated|adjusted|revised] [my plan|my schedule|the timeline] [for next time|for the next round|based "
          "on it].",
         "[I|Of course I] [arrived|showed up|got there] [early|ten minutes early|well ahead] [with everything ready|fully prepared|with "
          "a checklist]."),
    ),
    "neuroticism": (
        ("[All good|All fine] though[, really|, honestly|].",
         "No complaints[ at all| from me| whatsoever|].",
         "[Pretty|Fairly|Quite] [relaxed|calm|chill] about it[, honestly|, actually|].",
         "I'm not [stressing|worrying|fretting] about it[ at all| one bit|].",
         "Whatever happens, happens[, right|, I figure| and that's fine|].",
         "I slept like a [baby|log][ afterwards|].",
         "Honestly, nothing [rattles|bothers|fazes] me [much|these days].",
         "It'll all [work out|be fine|sort itself out][ in the end|].",
         "Easy come, easy go[, as they say|, right|].",
         "Not [worried|bothered|stressed] in the [slightest|least].",
         "[Honestly|Truthfully], [I'm|I am] [totally|completely|perfectly] [at peace|fine|content] with [how it went|it|the outcome].",
         "[Didn't|I didn't] [lose|waste] [any|a minute of] sleep [over it|about it|on it].",
         "[Came|I came] [out of it|away from it|through it] [feeling|totally|pretty] [calm|relaxed|unbothered].",
         "[No|Zero] [drama|nerves|worries] [on my end|from me|at all].",
         "[If|Even if] [it had|something had] gone wrong, [I'd|I would] have [shrugged|laughed] it off."),
        ("Not [sure|certain] how I feel about it[ yet| to be honest|].",
         "I keep [overthinking|overanalysing] it[, as usual| a bit|].",
         "[Hope|I hope|Really hope] that was the right [call|choice|decision].",
         "It's been on my mind [a lot|constantly][ since| lately|].",
         "I'm a [bit|little] [anxious|nervous|uneasy] about it, honestly.",
         "Still a [little|bit] on edge[ about it|, to be honest|].",
         "What if I [got it all wrong|messed it up|made a mess of it]?",
         "My stomach's been in [knots|a twist] [over it|about it|ever since].",
         "I couldn't stop [thinking|worrying] about it for [hours|ages|the rest of the day].",
         "I've [replayed|gone over] it in my head a [dozen|hundred|million] times.",
         "[I|Honestly, I] [barely|hardly] [slept|got any sleep] [worrying about it|over it|because of it].",
         "[I keep|I can't stop] [wondering|asking myself] [if|whether] [I made a mistake|I messed it up|it was a mistake].",
         "[My nerves|The nerves|The jitters] [were|have been] [through the roof|all over the place|awful] [about it|since|over it].",
         "[I'm|I am] [scared|worried|afraid] [it'll|it will] [go wrong|backfire|fall apart] [somehow|eventually|later].",
         "[Part of me|Some part of me|A part of me] [is still|keeps] [panicking|fretting|freaking out] [about it|over it|a little]."),
    ),
    "openness": (
        ("Nothing [fancy|special|flashy][, really|, mind you|].",
         "[Simple|Plain] is [good|fine|best], [honestly|really|I think].",
         "I like what I like[, you know|, simple as that|, always have|].",
         "Keep it [simple|plain], that's my [motto|rule|way].",
         "I'm not [one|the type] for [experiments|surprises|novelties].",
         "Tried and tested [works|is best] for me[, always|, every time|].",
         "No need to [reinvent the wheel|rethink anything|change a thing].",
         "I'll [stick|stay] with what [works|I know|I like].",
         "Practical over [exotic|fancy|flashy], [always|every time].",
         "I don't [need|want] much more than that[, really|, honestly|].",
         "[Same|The same] [as always|as usual|as every time], [which is|and that's] [exactly what I wanted|just how I like it|fine "
          "by me].",
         "[I|Honestly, I] [stuck to|kept to|went with] [the usual|my usual|my tried and tested] [routine|way|option].",
         "[Nothing|Not much] [new|unusual|different] [about it|there|to report], [and I liked that|which suits me|and that is good].",
         "Why [change|fix|mess with] [a good thing|what works|something that works]?",
         "[Plain|Ordinary|Unremarkable], [and|but] [comfortable|reliable|familiar], [the way I like it|just how I like it|as I prefer]."),
        ("It made me [curious|eager|keen] to try something [totally|completely|entirely] new.",
         "I [love|adore] discovering [stuff|things] like that!",
         "Now I [want|need] to explore more of it[, honestly|, properly|].",
         "I [want|need] to learn [everything|all there is to know] about it now[, seriously|, honestly|].",
         "It [sparked|gave me] about [ten|a dozen|a hundred] new ideas.",
         "I'd never seen anything [like it|quite like it][ before| in my life|].",
         "I'm [hooked on|obsessed with] trying new things [lately|these days|at the moment].",
         "It opened up a whole new [world|universe] for me[, honestly|, really|].",
         "I keep [wondering|thinking about] what else is out there[ to try| to find|].",
         "[Next time|Another time] I'll try something even [stranger|weirder|more unusual].",
         "[I|Honestly, I] [tried|went for|picked] [the weirdest|the most unusual|the strangest] [option|thing|choice] [there|they had|on "
          "offer]!",
         "[It|That] [got|set] my [imagination|mind|brain] [racing|going|buzzing] [with ideas|in all directions|for hours]!",
         "[Now|Already] [I'm|I am] [reading up on|researching|looking into] [it|the topic|where it comes from] "
          "[properly|in depth|for hours].",
         "[Such|What] a [fascinating|mind-blowing|eye-opening] [experience|thing to see|discovery], [honestly|truly|really].",
         "[I|Honestly, I] [want|need] to [find|try|discover] [something|anything] even [wilder|stranger|more unusual] "
          "[next|after this|soon]."),
    ),
}
# the same for a turn that tells no news (a request, a remark, a question): nothing in them points back at news
CHAT_VOICE = {
    "extraversion": (
        ("[I'm|I am] [staying in|staying home|lying low] and keeping things [quiet|low-key|calm].",
         "I [could use|need|would love] some time on my own[ for a bit| right now|].",
         "[Not really|Not at all|Hardly] in the mood for [company|people|socialising].",
         "I'd [rather|prefer to] keep it to just [me|myself][, to be honest|, honestly|].",
         "Too much [socialising|people time|going out] lately, I [need|could use] a [breather|break|rest].",
         "I've had my [fill|share] of [people|company|crowds] for a [bit|while].",
         "My [ideal|perfect|dream] [plan|outing|setup] [involves|includes] nobody else.",
         "A [quiet|peaceful|calm] [corner|spot|nook] is all I'm [after|looking for|hoping for].",
         "I'm [happiest|most content|at my best] with my own company [right now|these days|lately].",
         "I [turned down|declined|said no to] [two|a couple of|three] [invitations|invites] already.",
         "[I'd|I would] [rather|prefer to] [figure this out|do this|handle it] [on my own|by myself|solo][, honestly| if I can|].",
         "[Something|Anything] [I can do|to enjoy] [alone|by myself|without company] [would be|is] [ideal|perfect|best].",
         "[A|My] [quiet|calm|peaceful] [corner|spot|space] [and|with] [no one around|nobody else|zero noise] [sounds|seems] "
          "[perfect|ideal|great].",
         "[Please|Ideally], [nothing|no plan] [that involves|with] [a crowd|big groups|lots of people].",
         "[I've|I have] [been|felt] [a bit|rather|quite] [peopled out|socially drained|tired of company] [lately|recently|of late]."),
        ("I'd [love|like] to [get|round up|gather] some people together[ for it|]!",
         "I've been [chatting|talking] to [everyone|everybody|half the world] all [day|week]!",
         "I'm [craving|missing|dying for] a bit of [company|fun with people][, honestly|]!",
         "I [want|need] something I can [share|enjoy|do] with [friends|my friends|the gang]!",
         "I already have [three|a few|four] people in mind to [invite|bring along|drag along]!",
         "[Bonus points|Extra points|Even better] if it's something [social|we can do as a group]!",
         "I've got [so much|loads of|tons of] energy to burn[ at the moment| right now|]!",
         "I can't wait to [tell|show] [everyone|all my friends|the whole crew] what I [pick|end up with|go for]!",
         "I've been on the [phone|line] with [friends|my mates|people] for [ages|hours]!",
         "The more people [involved|along|around], the [happier|better] I [am|feel]!",
         "[Something|Anything] [the whole|my whole|the entire] [gang|group|crew] [can|could] [join|do together|enjoy] would be "
          "[perfect|ideal|great]!",
         "[I'm|I am] [in the mood for|itching for|dying for] [a party|some fun with people|a proper get-together]!",
         "[The group chat is|My friends are|The crew is] [waiting|begging|asking] for [a plan|an idea|something to do]!",
         "[Let's|Help me] [make it|turn it into] [something social|an event with friends|a get-together]!",
         "[I|Honestly, I] [love|adore|live for] [a busy|a lively|a buzzing] [room|place|crowd]!"),
    ),
    "agreeableness": (
        ("Just [give it to me|tell me|say it] straight.",
         "No need to be [polite|nice|gentle] about it[, by the way|, seriously|].",
         "[Skip|Drop|Forget] the [pleasantries|niceties|small talk], please.",
         "Don't [sugar-coat|soften|dress up] it[, okay|, please|].",
         "I don't [need|want] a pep talk[, just an answer| this time|].",
         "[Spare me|Save me|Skip] the [chit-chat|fluff|niceties].",
         "I'll [ignore|skip|bin] it if I don't like it[, fair warning|, just so you know|].",
         "Be [blunt|direct|frank], I can [take it|handle it].",
         "[A short|A quick|A one-line] answer is [fine|enough|plenty].",
         "I'm not [asking for|after|looking for] anyone's [approval|permission][ here|, mind|].",
         "[Cut|Skip] [to the chase|the fluff|the nice words], [please|thanks|okay].",
         "[I|Honestly, I] [don't|do not] [care|mind] [who|whoever] [it offends|disagrees|thinks otherwise].",
         "[Tell|Give] me [what you'd do|your pick|the answer], [not|and skip] [a lecture|the reasons|the pep talk].",
         "[Whatever|Anything] [works|does the job], [I'm not|I am not] [fussed|precious] about [being nice|manners|politeness].",
         "[Don't|Do not] [bother|waste time] [being|trying to be] [diplomatic|tactful|gentle] [with me|about it|here]."),
        ("Thank you, you're [always|forever|ever] so [helpful|kind|sweet]!",
         "[Hope|I hope] you're having a [nice|lovely|good] [day|week] too!",
         "Sorry to [bother|pester|trouble] you again, and [thanks|thank you].",
         "I [really|truly|so] appreciate you, you know[ that|].",
         "No pressure at all, whatever you [think|reckon|suggest][ is best|].",
         "[Thanks|Thank you] in advance, [truly|really|honestly].",
         "You always make this [easier|simpler|less stressful], thank you[ so much|].",
         "I hope I'm not [asking|expecting] too much[ of you|].",
         "[Grateful|Thankful] for you, as [always|ever].",
         "Thanks for [putting up with|bearing with|humouring] my [questions|endless questions|many questions].",
         "[I|Honestly, I] [always|really] [appreciate|value|love] [your help|how helpful you are|your advice] [with this|so much|].",
         "[Whatever you suggest|Whatever you recommend|Whatever you pick], [I'm|I am] [sure|certain] it'll be [lovely|great|wonderful].",
         "[Sorry|Apologies] [if I'm|for being] [a pain|a bother|needy] [again|with all this|lately].",
         "[You're|You are] [such a|a real] [star|gem|sweetheart] [for helping|for doing this|for listening].",
         "[I|Honestly, I] [want|would like] [everyone|the people I'm with|whoever joins] to [enjoy|like|be happy with] it too."),
    ),
    "conscientiousness": (
        ("I haven't [planned|organised|thought through] a thing, [as usual|as always|of course].",
         "I'll [figure out|sort out|work out] the details [whenever|at some point|later].",
         "My [schedule|calendar|week] is a [mess|disaster|shambles], honestly.",
         "I [never|rarely|hardly ever] remember to [think|plan] ahead.",
         "I'll [probably|likely|almost certainly] decide at the last [second|minute|moment].",
         "Don't ask me for a [plan|schedule|timeline], I don't have one.",
         "My [to-do list|list|planner] got lost [somewhere|a while back|along the way].",
         "I [tend to|usually|mostly] go with whatever [happens|comes up|turns up].",
         "[Organising|Planning|Arranging] things is not my strong [suit|point].",
         "I'm [making it up|figuring it out|winging it] as I go[ along|].",
         "[I|Honestly, I] [haven't|have not] [thought that far ahead|looked into it yet|thought about it at all].",
         "[Something|Anything] [I|we] [can|could] [just|easily] [wing|improvise|throw together] [would be|is] [ideal|great|best].",
         "[I'll|I will] [probably|likely] [forget|lose track of] [whatever you say|the details|the plan] [anyway|in no time|eventually].",
         "[Planning|Organising|Scheduling] [ahead|things|stuff] [really|just|honestly] [isn't|is not] [my thing|for me|my style].",
         "[Last-minute|Spur-of-the-moment|Off-the-cuff] [ideas|suggestions|plans] [work best for me|suit me fine|are my favourite]."),
        ("I like to have a [plan|schedule] sorted [well ahead|in good time|early].",
         "I've [blocked out|set aside|reserved] time for it in my [calendar|planner|diary].",
         "I'm [making|writing|drawing up] a list as we [speak|chat|talk].",
         "I [want|need] to get it [organised|sorted|planned] [properly|the right way|well].",
         "I've already [narrowed it down|shortlisted a few|cut the options down] a [bit|little].",
         "I'd like to [lock it in|settle it|book it] [early|soon|in advance].",
         "I'm [keeping track of|noting down|listing] all my options[ in a list| in a note|].",
         "I have a [budget|plan] and a [timetable|schedule] for it.",
         "I [hate|can't stand|dislike] leaving things to the last minute.",
         "I'll [put|write|add] whatever you say straight [on|into] my [list|calendar|planner].",
         "[I'd|I would] [like|love] [something|an option] I can [schedule|plan|book] [properly|in advance|ahead of time].",
         "[I've|I have] [already|just] [made|drawn up] [a list|a shortlist|a spreadsheet] [of options|to compare|for this].",
         "[Please|Ideally], [something|an answer] [with|that has] [clear|concrete|specific] [steps|details|timings].",
         "[I|Honestly, I] [want|need] [to|it to] [fit|slot] [neatly|properly|perfectly] into [my schedule|my week|my plans].",
         "[I'll|I will] [note down|record|track] [whatever you suggest|your answer|the details] [in my planner|in my notes|straight "
          "away]."),
    ),
    "neuroticism": (
        ("No [stress|pressure|worries] either way.",
         "I'm [pretty|quite|fairly] [easygoing|laid-back|relaxed] about it[, honestly|].",
         "Whatever you [pick|choose|suggest] is fine, [really|honestly|truly].",
         "I'm in a [calm|good|steady] [place|spot|frame of mind] these days.",
         "Nothing's [bothering|troubling|worrying] me much[ lately| at the moment|].",
         "I'm feeling [steady|settled|grounded][ these days| overall|].",
         "[Low stakes|No big deal], no [worries|stress|pressure].",
         "I'm [relaxed|calm|easy] about the whole [thing|business].",
         "I'm in a [good|great|solid] headspace[ lately| right now|].",
         "Honestly, I'm [pretty|quite] [chill|calm|easygoing][ about it|].",
         "[Either way|Whatever happens|Any answer], [I'm|I am] [fine|easy|relaxed] [about it|with it|honestly].",
         "[I|Honestly, I] [won't|will not] [overthink|stress over|agonise over] [it|this|the choice].",
         "[There's|There is] [no|zero] [pressure|rush|stress] [on this one|about it|on my end].",
         "[I'm|I am] [feeling|pretty] [calm|relaxed|at ease] [about everything|these days|at the moment].",
         "[Nothing|Not a thing] [to worry|worth worrying] about [here|with this|on this front]."),
        ("I've been a [bit|little] on edge [lately|recently], to be honest.",
         "I keep [worrying|fearing|thinking] I'm forgetting something[ important|].",
         "Everything feels like a [big|huge|major] decision right now.",
         "My [mind|head|brain] keeps racing[ about it| all the time|].",
         "I get [nervous|anxious|jittery] about making the wrong [choice|call|decision].",
         "I've been [stressed|worked up|fretting] about little things all [day|week].",
         "I can't [shake|lose] this [uneasy|anxious|nervous] feeling.",
         "I [second-guess|doubt|question] everything at the moment.",
         "My nerves are a [bit|little] [frayed|shot|raw][ lately|].",
         "I [always|forever] [fear|worry] I'll regret it[ later|].",
         "[I'm|I am] [terrified|scared|nervous] of [picking wrong|getting it wrong|messing this up].",
         "[I|Honestly, I] [keep|can't stop] [imagining|picturing|thinking about] [everything that could go wrong|all the ways it "
          "could go wrong|it all falling apart].",
         "[My anxiety is|My nerves are|The worry is] [really|pretty|rather] [bad|high|loud] [at the moment|lately|right now].",
         "[What if|Suppose] [it|this] [turns out|ends up] [badly|wrong|a disaster]?",
         "[I|Honestly, I] [need|could use] [some|a bit of] [reassurance|calm|comfort] [about it|right now|here]."),
    ),
    "openness": (
        ("Nothing too [out there|wild|experimental], please.",
         "I [prefer|like|stick to] the [familiar|usual|tried-and-true] stuff.",
         "Don't make it [complicated|fancy|fussy][, please|].",
         "I'm a creature of [habit|routine][, really|, honestly|].",
         "Nothing [experimental|too unusual], [thanks|please].",
         "I [like|prefer] things I already know.",
         "The classics are [classics|popular] for a reason.",
         "Don't [push|force] anything [weird|strange|odd] on me.",
         "Same old is [fine|perfect|good] by me.",
         "I don't [care for|need|want] novelty[, honestly|, really|].",
         "[Something|Anything] [familiar|traditional|ordinary] [works|will do|is fine] [for me|here|].",
         "[Please|Ideally], [nothing|no suggestion] [too|that's] [adventurous|unusual|strange].",
         "[I|Honestly, I] [like|prefer] [to know|knowing] [what I'm getting|what to expect|the outcome].",
         "[The|A] [usual|standard|regular] [option|choice|pick] [suits|fits|works for] me [fine|best|perfectly].",
         "[I'm|I am] [not keen on|not interested in|really not keen on] [experimenting|anything new|change] [right now|for now|here]."),
        ("I'm in the mood for something a [bit|little] [different|unusual|out of the ordinary].",
         "I [love|adore] trying things I've never [heard of|tried][ before|]!",
         "[Surprise|Amaze] me with something [new|unexpected|fresh].",
         "The [stranger|weirder|more unusual] the better[, honestly|, really|].",
         "I'm [curious|excited] about [everything|all sorts] [lately|these days|at the moment].",
         "I [want|need] to [broaden|widen] my horizons[ a bit| a little|].",
         "Something [unusual|unexpected|offbeat] would make my [day|week].",
         "I'd [love|like] to [discover|stumble on] something unexpected.",
         "I'm [craving|after] a bit of adventure[ lately| these days|].",
         "Show me something I'd never [think of|come up with][ myself| by myself|].",
         "[Something|Anything] [I've|I have] never [tried|done|heard of] [before|so far|yet] would be [amazing|perfect|exciting].",
         "[Push|Take] me [out of|beyond] my [comfort zone|usual|routine][, please|, seriously|]!",
         "[I|Honestly, I] [love|adore|crave] [anything|something] [unusual|quirky|offbeat] [at the moment|these days|lately].",
         "[The more creative|The more unexpected|The more original] the [idea|option|answer], the [better|happier I am].",
         "[I'm|I am] [up for|open to|keen on] [almost|just about] [anything|any idea] [new|different|out of the ordinary]."),
    ),
}
NEWS_TAILS, CHAT_VOICE = (with_leads(reworded(bank), USER_LEADS, 2)
                          for bank in (NEWS_TAILS, CHAT_VOICE))
# both banks, rank-matched per pole: what the alignment gold counts and the certificate swaps
TRAIT_TAILS = {t: (NEWS_TAILS[t][0] + CHAT_VOICE[t][0], NEWS_TAILS[t][1] + CHAT_VOICE[t][1]) for t in NEWS_TAILS}
# what the assistant adds for a user whose earlier words showed a trait's pole, (low, high): the Response stage's
# adaptation, in words that are none of the user's trait sentences
ADAPTED = {
    "extraversion": (
        ("[Take|Give yourself] all the [quiet|calm|peaceful] time you [need|want|like][, honestly| this week|].",
         "A [calm|quiet|peaceful] [one|round|go] on your own [sounds|feels] [just right|ideal|spot on] for you.",
         "You [don't have to|needn't] [fill|pack] your [calendar|week|diary] to have a [good|great|happy] [week|stretch|time].",
         "A [solo|one-person|quiet] [version|take] of it [could|might|would] be [lovely|really nice|just the thing].",
         "[Protect|Guard|Keep] your [quiet|calm|slow] evenings; they [seem to|clearly] [recharge|restore|refresh] you.",
         "One [good|real|proper] [conversation|chat|talk] beats a [crowd|big group|busy room] for you[, I think|, I'd say|].",
         "[A slow|A calm|An unhurried] [spell|stretch|weekend] [with a good book|on the sofa|at your own pace] [sounds|seems] "
          "[ideal|perfect|just right] for you.",
         "[There's no|Nobody made a] [rule|law] that says [a good time|fun|a nice day] needs a crowd.",
         "[Keep|Save|Guard] [some|plenty of] [room|space|time] for [yourself|your own company|a bit of peace].",
         "[You seem to|I think you] [recharge|unwind|reset] best [on your own|in your own company|away from the noise].",
         "[Skipping|Passing on|Saying no to] the [big|loud|busy] [plans|gatherings|crowds] is [completely|perfectly|totally] "
          "[fine|okay|reasonable].",
         "[A quiet|A solo|A peaceful] [walk|wander|stroll] [afterwards|after that|later on] [could be|might be|would be] "
          "[nice|good|lovely].",
         "[Some time|A quiet stretch|A slow day] [to yourself|at home|on your own] [with nothing planned|with no "
          "plans|and no one to entertain] [could be|might be|sounds] [perfect|lovely|just right].",
         "You [don't|never] [need|have] to [explain|justify|apologise for] [wanting|needing|choosing] [some space|time alone|a quiet one].",
         "[Small|Quiet|Low-key] [plans|outings|days] [seem to|clearly] [suit|agree with|work for] you [best|well|nicely].",
         "[A good book|A long walk|A film at home] [might|could|would] [beat|top] [any|a busy|a crowded] [party|gathering|do] for you."),
        ("You [should|could] [get|gather|round up] a few people [together|along] for the [next one|next round|sequel]!",
         "[Tell me|I want to hear|Fill me in on] [everyone's reactions|how everyone reacted|what everyone said]!",
         "You [could|might] [turn|make] it into a [get-together|little party|group thing] [next time|one day|soon].",
         "Your [friends|crew|people] would [probably|surely|definitely] [love|be thrilled] to [join you|come along|tag along].",
         "[Bring|Invite|Drag along] the whole [gang|crew|group] [next time|on the next one|for the next round].",
         "[Share|Spread] it [around|about]; you [clearly|obviously] [love|thrive on] [company|having people around].",
         "[Round up|Gather|Rally] [a few|some|your] [friends|people|favourite people] and make it [a thing|an occasion|an outing]!",
         "[I bet|I'm sure|No doubt] [your friends|everyone|the whole group] [would|will] [love|enjoy] [hearing|hearing all] about it!",
         "[You could|Maybe you could] [host|throw|organise] [something|a little something|a small gathering] [around it|for it|to "
          "celebrate]!",
         "[Your energy|That energy of yours|Your enthusiasm] [is catching|rubs off on people|lights up a room]!",
         "[Invite|Bring|Drag along] [someone|a friend|a couple of friends] [next time|for the next round|on the next one]; [it'll "
          "be|it'd be|that'd be] [even better|twice the fun|more fun].",
         "[People|Friends|The people you know] [clearly|obviously|must] [love|enjoy|appreciate] [your company|having you around|spending "
          "time with you].",
         "[Your|All your] [friends|people|crew] [must|surely] [love|enjoy] [hearing|getting] [these updates|your stories|news like this]!",
         "[Throw|Host|Plan] a [little|small|proper] [get-together|celebration|party] [around it|for it|to share it]; "
          "[you'd|you would] [love|enjoy] it!",
         "[Tell|Show] [everyone|your friends|the group]; [they'll|they will] [want|love] to [hear|know] [all about "
          "it|the details|the story]!",
         "[You're|You are] [clearly|obviously] [at your best|in your element|happiest] [around people|with a crowd|in company]!"),
    ),
    "agreeableness": (
        ("[Good on you|Well done|Fair play to you] for doing it [your way|your own way|on your terms].",
         "[No need|There's no need] to [run it past|check with|clear it with] anyone else[, either|].",
         "[Your call|Your decision|Up to you] entirely; you know what you [want|like|need].",
         "You [don't owe anyone|owe nobody|needn't give anyone] [an explanation|an account|a justification][ for it|].",
         "[Straight|Right] to the point, as [ever|always|usual]: I [like|respect|appreciate] it.",
         "[Trust|Go with|Rely on] your own [read|judgement|instinct] on it.",
         "[You know your own mind|You've got a clear head|You have your priorities straight] [on this|about it|here], "
          "[and that's|which is] "
          "[fair|fine|good].",
         "[No point|No need|Don't bother] [pleasing|worrying about] [everyone|other people|the crowd] [on this one|here|with it].",
         "[Say|Do|Call] it [as you see it|the way you want|how you like]; [it's|that's] [your business|your call|up to you].",
         "[Blunt|Direct|Straight] [is good|works|suits you]: [I'll|I will] [keep mine short too|return the favour|do the same].",
         "[Your own|Your] [opinion|view|verdict] is the [one that counts|only one that matters|one to go with] [here|on this|].",
         "[Fair enough|Fine by me|Understood]; [you don't need anyone's|no need to wait for anyone's|you needn't ask for] "
          "[permission|approval|blessing].",
         "[Straight|Plain|Simple] answer: [go with what you want|do it your way|pick what suits you].",
         "You [clearly|obviously|plainly] know [what you want|your own mind], [so|and] [I'll|I will] [keep it short|skip "
          "the fluff|get to the point].",
         "[Nobody|No one] [else|] [gets|needs] a vote [on this|here|in it]; [it's|that's] [yours|your call|your decision].",
         "[If others disagree|If anyone objects|If people grumble], [that's|it's] their [problem|business], not yours."),
        ("[It's lovely|It's wonderful|I love] how much you [care about|look out for|think of] the people around you.",
         "[Maybe|Perhaps|Why not] [share it with|tell|pass it on to] someone close[ to you|]?",
         "Your [kindness|warmth|care] [really|clearly] shows in [how you tell it|the way you talk about it].",
         "The people [around you|in your life|close to you] are [lucky|lucky to have you|fortunate].",
         "[Don't forget|Remember] to [look after|care for|be kind to] yourself as well as everyone else.",
         "A [thank-you note|kind message|quick thank-you] would [make|brighten|light up] their day.",
         "[You're|You are] [so|really|always] [thoughtful|considerate|generous] [towards|with] [others|the people you "
          "love|everyone].",
         "[Anyone|Whoever is] [lucky enough|fortunate enough] to [know|have] you [gets|has] a [good|great|kind] [friend|person] [in "
          "their corner|on their side].",
         "[Maybe|Perhaps|Why not] let [them|the people who helped|those close to you] [know|see] [how much it meant|what it "
          "meant|you appreciated it]?",
         "[Your|That] [warmth|kindness|care] [comes through|shows|shines through] [every time|in everything|again].",
         "[Remember|Don't forget] [to be|to stay] as [kind|gentle|patient] [to yourself|with yourself] as you are to [others|everyone "
          "else].",
         "[Sharing|Talking about] [the good news|it|this] with [someone close|a friend|someone you love] "
          "[could|might|would] [make their day|brighten their day|mean a lot].",
         "[Whoever|Anyone who] [helped|was there|shared it with you] [must feel|is surely] [lucky to have you|glad you "
          "were there|grateful for you].",
         "[Your|That] [big|kind|generous] heart [really|truly|clearly] [shows|comes through|shines] [here|in this|in how you tell it].",
         "[Make sure|Remember] [someone|somebody] [looks after|takes care of|spoils] you [too|as well|for a change].",
         "[It's|It is] [clear|obvious] [how much|that] you [care about|value|treasure] [the people around you|your "
          "people|those close to you]."),
    ),
    "conscientiousness": (
        ("[No need|There's no need] to [plan it out|map it all out|organise it], just [enjoy|savour|go for] it.",
         "Keep it [loose|relaxed|easy]; that [works|seems to work] for you.",
         "[Spontaneity|Going with the flow|Improvising] [suits you|looks good on you|works for you].",
         "[Don't|Never] let a [schedule|timetable|plan] [spoil|ruin|get in the way of] it.",
         "[Go with the flow|Play it by ear|Take it as it comes] on this one[, I'd say|].",
         "You can always [figure out|sort out|work out] the [details|rest|logistics] later.",
         "[No|There's no] [need for|point in|call for] a [plan|schedule|checklist] [here|for this|right now]; [see|find out] [what "
          "happens|where it goes|how it unfolds].",
         "Play it by ear[; it suits you|, as you do| and enjoy it].",
         "[Leave|Keep] [some|a bit of] [room|space] for [surprises|the unexpected|whatever turns up].",
         "[Winging it|Improvising|Going with it] [seems to|tends to|usually does] [work|pay off|turn out fine] for you.",
         "[Don't|No need to] [overplan|overthink|over-organise] it; [just|simply] [enjoy|relish|go for] it.",
         "[Whatever|However] it [turns out|goes|unfolds], [you'll|you will] [sort it|figure it out|work it out] [as you go|on the "
          "way|along the way].",
         "[No|There's no] [schedule|plan|timetable] [needed|required|necessary] [for this|here|this time]; [just|simply] "
          "[go|see how it goes|follow your nose].",
         "[Leave|Keep] the [details|logistics|fine print] for [later|another day|whenever].",
         "[A loose|A rough|A vague] [idea|plan|outline] is [plenty|enough|all you need] [here|for this|for now].",
         "[You can|You could] [figure|work|sort] [it|things] out [on the day|as you go|when you get there]."),
        ("[Want|Would you like] me to [jot down|note|add] a next step so it's on your [list|planner|calendar]?",
         "We [could|might] [set|pick|fix] a date for the next [round|one|step].",
         "A [quick|short|simple] [checklist|plan|list] [might|could] suit you here.",
         "[Put|Pop|Write] it in your [planner|calendar] and it'll [happen|get done].",
         "Your [organising|planning|preparation] [really|clearly|certainly] pays off[ every time|].",
         "[Breaking|Splitting] it into [dated|scheduled|clear] steps would be [very you|just your style].",
         "[A|One] [clear|simple|concrete] [next step|to-do|milestone] [on your list|in your planner|in the calendar] [would|could|might] "
          "[keep it moving|keep the momentum|help].",
         "[Your|That] [careful|thorough|methodical] [planning|preparation|approach] [clearly|really|obviously] [pays off|works|shows].",
         "[Shall|Should] I [remind you|note it down|keep track] [for the next round|when it's time|ahead of the next one]?",
         "[Writing down|Jotting down|Noting down|Writing up] [what worked|the details|a few notes] [will|would|could] "
          "[make the next one easier|help "
          "next time|save you time].",
         "[Blocking out|Booking|Setting aside] [a slot|some time|an hour] [for it|in advance|ahead] [sounds like|seems like|is] [your "
          "style|your way|the way you work].",
         "[I love|It's great|I like] how [organised|prepared|on top of things] you [are|always are|stay] [about this|with it|].",
         "[A|One] [quick|short|small] [list|checklist|plan] [for the next one|for next time|ahead of time] [would|could] "
          "[suit|help] you [well|nicely|here].",
         "[I can|I could] [tell|see] you like [things|everything] [planned properly|in good order|organised ahead of time].",
         "[Pencil|Put|Note] [the next one|the follow-up|a date] [in|into] your [calendar|planner|diary] [now|early|while it's fresh].",
         "[Your|That] [attention to detail|sense of order|careful planning] [really|clearly] [pays off|shows|helps] "
          "[here|again|every time]."),
    ),
    "neuroticism": (
        ("You [seem to|clearly] take [these things|things like this|it all] in [stride|your stride].",
         "[Sounds like|Seems like|It looks like] you're [steady|calm|unruffled] about it.",
         "Your [calm|composure|steadiness] is a [real|genuine|true] strength.",
         "[Not much|Very little|Hardly anything] seems to [shake|faze|rattle] you.",
         "That [easy|relaxed|easygoing] [attitude|outlook] [serves you well|works for you|helps you].",
         "You [handle|deal with|take] surprises better than most[ people|].",
         "[You|It sounds like you] [take|handle|meet] [things|it all|whatever comes] [calmly|in your stride|with a level head].",
         "[That|Your] [steadiness|composure|easygoing way] [is|seems] [a real gift|worth a lot|a real asset].",
         "[Nothing|Not much|Little] [seems to|appears to] [throw|knock|unsettle] you, [and that|which] [helps|shows|is great].",
         "[Your|That] [relaxed|laid-back|calm] [attitude|outlook|approach] [will|should|is bound to] [serve you well|carry you far|keep "
          "things easy].",
         "[I like|It's good|It's nice] [that|how] you [don't sweat|don't fret over|shrug off] the [small stuff|little things|details].",
         "Keep [that|your] [cool head|calm outlook|steady mood]; [it suits you|it works for you|it clearly helps].",
         "[You|It seems you] [handled|took|met] [it|that|this] [calmly|with a cool head|in your stride], [as usual|as ever|like always].",
         "[Not much|Very little|Hardly anything] [rattles|unsettles|fazes] you[, and it shows|, and that shows|, which is great to see].",
         "[That|Your] [calm|steady|easygoing] [approach|outlook|way] [makes|keeps] [things|everything|life] [simpler|easier|lighter].",
         "[You seem|You sound] [really|pretty|genuinely] [at ease|settled|relaxed] [with it|about it|with everything]."),
        ("For what it's worth, you [handled|managed|dealt with] it well; no need to [second-guess|doubt|question] it.",
         "Take it one [step|day|thing] at a time; there's no [rush|hurry|deadline].",
         "[Try to|Do] go easy on yourself[ this week| for a while|].",
         "A few [slow|deep|calm] breaths can help when it [feels like|gets to be] a lot.",
         "It's [okay|fine|alright] not to have it all [figured out|worked out|sorted][ yet|].",
         "[Worrying|Fretting] means you care, but you're doing [fine|great|well].",
         "[Whatever happens|However it goes|Either way], [you've|you have] done [your part|your best|what you could], [and "
          "that's|which is] [enough|plenty|what counts].",
         "[Be|Try to be] [kind|gentle|patient] with yourself [while it settles|as things settle|for a bit].",
         "[If it|When it] [feels like|starts to feel like|gets to be] [too much|a lot], [a short|a slow|a quiet] [walk|pause|break] "
          "[can|might|will often] help.",
         "[It's|It is] [fine|okay|normal] to [feel unsure|have doubts|feel uneasy]; [it|that] [doesn't mean|is no sign] [anything's "
          "wrong|you chose badly|it went badly].",
         "[One thing|One step|A little] at a time [is|will be] [plenty|enough|fine].",
         "[You're|You are] [doing|coping|managing] [better than you think|more than fine|really well], [honestly|truly|for what it's "
          "worth].",
         "[It's|It is] [okay|fine|normal] to [feel|be] [nervous|unsure|anxious] [about it|about this|for a while]; "
          "[you're doing fine|you're handling it well|you are doing well].",
         "Take [it|this|things] [slowly|gently|step by step]; [there's|there is] [no rush|no hurry|time].",
         "[Whatever happens|However it turns out], [you'll|you will] [cope|manage|be okay].",
         "[If|When] [worries|doubts|nerves] [creep in|pile up|show up], [try|remember] to [breathe|pause|slow down] [first|for a moment]."),
    ),
    "openness": (
        ("[Sticking|Staying] with what you like is a [fine|good|sound] choice.",
         "A [reliable|trusty|dependable] favourite is worth [keeping|holding on to].",
         "[No need|There's no need] to [change|fix|tinker with] what works[ for you|].",
         "[Familiar|Old|Homely] comforts are [underrated|worth a lot|quietly wonderful].",
         "Keep it [simple|straightforward|classic]; it [suits you|works for you].",
         "There's [wisdom in|sense in|a lot to be said for] knowing what you like.",
         "[A|Your] [trusty|trusted|reliable] [favourite|classic|usual] is [never a bad call|a safe bet|always a good choice].",
         "[No need|There's no need|You don't need] to [chase|hunt for|look for] [anything new|something different|novelty] [if it "
          "works|when this works|here].",
         "[Stick|Go] with [what you know|the usual|the familiar]; [it|that] [clearly|obviously|evidently] [works|suits you|makes you "
          "happy].",
         "[Simple|Familiar|Tried-and-true] [things|pleasures|comforts] [are|can be] [the best|the most satisfying|the most rewarding].",
         "[Knowing|Being sure of] [what you like|your taste|your favourites] [saves|spares] [a lot of|plenty of] "
          "[time|bother|second-guessing].",
         "[The|A] [classic|traditional|standard] [version|way|route] [sounds|seems|looks] [right|perfect|ideal] for you.",
         "[Your|A] [usual|favourite|regular] [choice|pick|option] [sounds|seems] [like the right call|just "
          "right|perfect] [here|for this|again].",
         "[No need|There's no need] to [reinvent|overhaul|shake up] [anything|a good thing|your routine].",
         "[Familiar|Trusted|Known] [favourites|places|things] [are|tend to be] [a safe|a good|a comforting] [bet|choice] "
          "[for you|here|again].",
         "[Stick with|Go back to] [the classics|the familiar|what you love]; [they|those] [rarely|never] [let you down|disappoint]."),
        ("[Maybe|Perhaps|Why not] try a [new|fresh|different] twist on it next time?",
         "There's a whole [world|universe|lot] of related things to [explore|discover|try].",
         "Your curiosity will [find you|turn up|dig up] something [great|wonderful|special].",
         "You [could|might] [look into|dig into|read up on] the history behind it.",
         "[Why not|How about you] try a more [unusual|adventurous|offbeat] version?",
         "I [love|admire] how open you are to [new things|the new|fresh ideas].",
         "[There's|There is] [always more|so much more|always something new] to [discover|explore|find] [around it|in "
          "that direction|along those "
          "lines].",
         "[Your|That] [curiosity|sense of adventure|openness] [will|should|is bound to] [take you|lead you] [somewhere|to "
          "something] [interesting|wonderful|unexpected].",
         "[Why not|Maybe|You could] [try|look for|seek out] [a stranger|an unusual|a bolder] [version|take|twist] [next time|on the next "
          "go|another time]?",
         "[I love|It's great|I like] [how|that] you [keep|are always] [trying|exploring|discovering] [new things|something new|the "
          "unknown].",
         "[A|One] [new|fresh|different] [angle|direction|experiment] [could|might|would] [open up|spark|lead to] [a whole lot more|all "
          "sorts of ideas|something great].",
         "[Digging|Looking|Reading] into [the story|the history|the background] [behind it|of it] [could|might|would] [be|prove] "
          "[fascinating|rewarding|fun] for you.",
         "[Maybe|Perhaps] [explore|try] [something|a version] [a bit|a little] [stranger|bolder|more unusual] [next|another] time?",
         "[There's|There is] [a lot|plenty|so much] [more|] to [discover|explore] [around|behind|beyond] [this|it]; "
          "[you'd|you would] [love|enjoy] it.",
         "[Your|That] [curious|adventurous] [streak|side] [is clearly paying off|serves you well|is a real gift].",
         "[A workshop|A class|A tour] [on|about|around] [it|the topic] [could open new doors|might spark fresh "
          "ideas|could lead somewhere new] for you."),
    ),
}

ADAPTED = with_leads(reworded(ADAPTED), REPLY_LEADS, 2)


class Voiced(NamedTuple):
    """A trait sentence found in a text: its trait, pole (1: high) and rank, and where it stands."""

    trait: str
    pole: int
    rank: int
    start: int
    end: int


@cache
def _finder() -> Finder:
    return Finder(((trait, pole, rank), s) for trait, poles in TRAIT_TAILS.items()
                  for pole, sentences in enumerate(poles) for rank, s in enumerate(sentences))


def find_voice(text: str) -> list[Voiced]:
    """The trait sentences a text holds, in order."""
    return [Voiced(*key, start, end) for key, start, end in _finder().find(text)]  # type: ignore[misc]


def trait_counts(text: str) -> dict[str, tuple[int, int]]:
    """How many of each trait's (low, high) sentences a text holds."""
    counts = {trait: [0, 0] for trait in TRAIT_TAILS}
    for v in find_voice(text):
        counts[v.trait][v.pole] += 1
    return {t: (low, high) for t, (low, high) in counts.items()}


def restyle(text: str, trait: str) -> str:
    """The text with each of the trait's sentences said as the other pole's sentence of the same rank."""
    out, last = [], 0
    for v in find_voice(text):
        if v.trait == trait:
            out += [text[last:v.start], canonical(TRAIT_TAILS[trait][1 - v.pole][v.rank])]
            last = v.end
    return "".join(out) + text[last:]


def shown_pole(low: int, high: int, least: int = 3) -> bool | None:
    """The pole the sentences show (True: high): at least `least` of one pole and none of the other."""
    return high > 0 if min(low, high) == 0 and max(low, high) >= least else None


class Observed:
    """What the assistant has read of the user's personality so far: the trait sentences of the user's turns."""

    def __init__(self) -> None:
        self.counts = {trait: [0, 0] for trait in TRAIT_TAILS}

    def add(self, session: Session) -> None:
        said = trait_counts("\n".join(t.text for t in session.turns if t.role == "user"))
        for trait, (low, high) in said.items():
            self.counts[trait][0] += low
            self.counts[trait][1] += high

    def poles(self) -> dict[str, bool]:
        return {t: pole for t, (low, high) in self.counts.items() if (pole := shown_pole(low, high)) is not None}
