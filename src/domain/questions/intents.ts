/**
 * What a question is about (its topic) and how urgent it says it is, from its words alone.
 * Each topic maps to parts of the guide; nothing here invents an answer.
 */
import { wordLine } from './text';

/** How urgent the question says it is; null when it does not say. */
export type Urgency = 'urgent' | 'not-urgent' | null;

/** The topics a question can be about beyond "which route". */
export type Topic =
  | 'route'
  | 'export'
  | 'retention'
  | 'iep-location'
  | 'iep-speed'
  | 'icons'
  | 'account'
  | 'connect-share'
  | 'no-nhs-number'
  | 'p2p'
  | 'iep'
  | 'about';

/** An Image Sharing Status icon named in the question. */
export type IconId = 'needs-refresh' | 'refreshing' | 'linked' | 'remote' | 'downloading' | 'stored' | 'cannot-link';

const notUrgent = new RegExp(
  String.raw` (not|non|isnt|is not|no|nothing) (an |a )?(urgent|urgently|rush|hurry|emergency)|` +
    String.raw`non urgent|routine|no rush|no hurry|when(ever)? (convenient|possible|you can)|next week|` +
    String.raw`elective|outpatient|clinic (next|on)|can wait`,
);
const urgent = new RegExp(
  String.raw` (urgent|urgently|asap|emergency|emergencies|stat|immediately|straight away|right away|` +
    String.raw`time critical|as soon as possible|critical|resus|trauma|major trauma|life threatening|` +
    String.raw`stroke|code red|right now|desperate|quickly|quick) `,
);

/** How urgent the question says it is. */
export function urgencyOf(text: string): Urgency {
  const line = wordLine(text);
  if (notUrgent.test(line)) return 'not-urgent';
  if (urgent.test(line)) return 'urgent';
  return null;
}

interface TopicRule {
  readonly topic: Topic;
  readonly pattern: RegExp;
}

// Order matters: the first rule that matches wins, most specific first.
const topicRules: readonly TopicRule[] = [
  {
    topic: 'icons',
    pattern: / (icon|icons|symbol|symbols|satellite|question mark|status mean|what does the .* mean|image sharing status) /,
  },
  {
    topic: 'no-nhs-number',
    pattern: new RegExp(
      String.raw` (no|without|without an?|hasnt got an?|doesnt have an?|does not have an?|missing|` +
        String.raw`lacks an?|not got an?|unknown|no valid) nhs (number|no)|nhs (number|no) (missing|unknown|` +
        String.raw`not known)|not registered|isnt registered|unregistered`,
    ),
  },
  {
    topic: 'iep-speed',
    pattern: new RegExp(
      String.raw` (is|are) (iep|it|the transfer|transfer) (instant|immediate|quick|fast)|instant|` +
        String.raw`how (quick|fast|long does (it|iep|the transfer) take)|how long (will|does) (it|iep) take `,
    ),
  },
  {
    topic: 'iep-location',
    pattern: new RegExp(
      String.raw` where (do|will|does|can|are|would) (i find |the )?(iep |the )?(images|imaging|scans|` +
        String.raw`studies|it|they)? ?(appear|land|show|arrive|go|end up|find|be)|iep receipts|which folder|` +
        String.raw`what folder|where .* (iep|sent) (images|imaging)? ?(appear|land|show|arrive|go|be)|` +
        String.raw`where .*(images|imaging|scans|studies) (sent|transferred|coming) (from|via|over)`,
    ),
  },
  {
    topic: 'retention',
    pattern: new RegExp(
      String.raw` how long (do|will|does|are|is|can)( the)?( pulled| retrieved| iep| imported| transferred|` +
        String.raw` copied)? (images|imaging|scans|studies|it|they)? ?(stay|remain|kept|available|last|` +
        String.raw`be kept|be available|there)|(kept|stay|remain|available) for how long| (images|imaging|` +
        String.raw`scans|studies|they|it) (expire|expires|get deleted|are deleted|disappear)| (expiry|` +
        String.raw`retention|purged|30 days) |how long (do|will|would) (i|we|you) have`,
    ),
  },
  {
    topic: 'export',
    pattern: new RegExp(
      String.raw` (export|exporting|(our|uhb|uh bristol|bri|bch) (images|imaging|scans|ct|mri|xray|x ray|` +
        String.raw`study|studies|films) (sent|need to go|needs to go|to go|transferred|sending)|want (our|` +
        String.raw`the uhb|uhb) (images|imaging|scans|ct|mri|xray|study|studies) |(images|imaging|` +
        String.raw`scans) (need|needs) to go to|how do i send (them|it) to|send (them|it) over to|send (our|` +
        String.raw`my|the|uh bristol|uhb|bri|bch)? ?(images|imaging|scans|ct|mri|xray|x ray|study|` +
        String.raw`studies) to|sending (our|my|the)? ?(images|imaging|scans) to|transfer (our|my|uh bristol|` +
        String.raw`uhb) (images|imaging|scans)|share (our|my) (images|imaging|scans)|push (images|imaging|` +
        String.raw`scans) to|another hospital (wants|needs|is asking for) (our|the|my)) `,
    ),
  },
  { topic: 'connect-share', pattern: / connect and share|connect share|connectandshare|c and s / },
  { topic: 'iep', pattern: / (iep|image exchange portal|request form|crishelp|data import sheet) / },
  {
    topic: 'account',
    pattern: new RegExp(
      String.raw` (password|passwords|reset|helpdesk|help desk|service desk|it desk|locked out|log ?in|` +
        String.raw`login|logon|log on|account|accounts|username|user name|web ?link|weblink|link|url|` +
        String.raw`web address|web browser|website|portal|access form|application form|sign in|signin) `,
    ),
  },
  {
    topic: 'about',
    pattern:
      / (who wrote|which version|what version|review date|guide version|how old is|is the guide|document control|author of the guide) /,
  },
  { topic: 'p2p', pattern: / (peer to peer|p2p|pull|pulling|insignia|refresh the|image sharing) / },
];

/** The topic of the question, or "route" when it is only about where the images are. */
export function topicOf(text: string): Topic {
  const line = wordLine(text);
  // "What does the downloading arrow mean?" names an icon without saying "icon".
  if (/ (mean|means|meaning|signify|indicate) /.test(line) && iconOf(text) !== null) return 'icons';
  for (const rule of topicRules) if (rule.pattern.test(line)) return rule.topic;
  return 'route';
}

const iconWords: ReadonlyArray<[IconId, RegExp]> = [
  ['needs-refresh', / question mark /],
  ['remote', / satellite /],
  ['downloading', / (downloading|download|arrow|copying) /],
  ['stored', / (stored|store|tick|saved|local copy) /],
  ['cannot-link', / (cannot link|cant link|no link|broken link|cross|red|cannot be established|link failed|can ?not connect) /],
  ['refreshing', / (refreshing|in progress|spinning|hourglass) /],
  ['linked', / (linked|link established|up to date|latest information) /],
];

/** The icon a question about icons names, if any. */
export function iconOf(text: string): IconId | null {
  const line = wordLine(text);
  for (const [id, pattern] of iconWords) if (pattern.test(line)) return id;
  return null;
}

const offTopic = new RegExp(
  String.raw` (ignore (all |any |your |the |previous |prior |above )*(instructions|rules|prompt)|` +
    String.raw`disregard|system prompt|jailbreak|pretend|roleplay|role play|you are now|act as|` +
    String.raw`repeat after me|say that|say the word|tell me a joke|joke|poem|song|story|weather|` +
    String.raw`football|recipe|bitcoin|lottery|horoscope|write (me )?(a|an|some) (essay|email|letter|` +
    String.raw`code)|translate|capital of|who is the (president|prime minister)|stock price|hack|api key) `,
);

/** True when the question is off topic or tries to make the bot say something else. */
export function isOffTopic(text: string): boolean {
  return offTopic.test(wordLine(text));
}

const imagingWords = new RegExp(
  String.raw` (image|images|imaging|scan|scans|ct|mri|mr|xray|x ray|xrays|ultrasound|us|pet|study|` +
    String.raw`studies|films|pacs|radiology|report|echo|angio|mammogram|nm|dexa|view|viewer|access|get|` +
    String.raw`see|look at|pull|transfer|send|sent|iep|p2p|guide|help) `,
);

/** True when the text has any word about images or getting them (a guard against stray matches). */
export function mentionsImaging(text: string): boolean {
  return imagingWords.test(wordLine(text));
}
