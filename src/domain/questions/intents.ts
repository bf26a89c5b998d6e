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

const notUrgent = / (not|non|isnt|is not|no|nothing) (an |a )?(urgent|urgently|rush|hurry|emergency)|non urgent|routine|no rush|no hurry|when(ever)? (convenient|possible|you can)|next week|elective|outpatient|clinic (next|on)|can wait/;
const urgent = / (urgent|urgently|asap|emergency|emergencies|stat|immediately|straight away|right away|time critical|as soon as possible|critical|resus|trauma|major trauma|life threatening|stroke|code red|right now|desperate|quickly|quick) /;

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
  { topic: 'icons', pattern: / (icon|icons|symbol|symbols|satellite|question mark|status mean|what does the .* mean|image sharing status) / },
  { topic: 'no-nhs-number', pattern: / (no|without|without an?|hasnt got an?|doesnt have an?|does not have an?|missing|lacks an?|not got an?|unknown|no valid) nhs (number|no)|nhs (number|no) (missing|unknown|not known)|not registered|isnt registered|unregistered/ },
  { topic: 'iep-speed', pattern: / (is|are) (iep|it|the transfer|transfer) (instant|immediate|quick|fast)|instant|how (quick|fast|long does (it|iep|the transfer) take)|how long (will|does) (it|iep) take / },
  { topic: 'iep-location', pattern: / where (do|will|does|can|are|would) (i find |the )?(iep |the )?(images|imaging|scans|studies|it|they)? ?(appear|land|show|arrive|go|end up|find|be)|iep receipts|which folder|what folder|where .* (iep|sent) (images|imaging)? ?(appear|land|show|arrive|go|be)|where .*(images|imaging|scans|studies) (sent|transferred|coming) (from|via|over)/ },
  { topic: 'retention', pattern: / how long (do|will|does|are|is|can)( the)?( pulled| retrieved| iep| imported| transferred| copied)? (images|imaging|scans|studies|it|they)? ?(stay|remain|kept|available|last|be kept|be available|there)|(kept|stay|remain|available) for how long| (images|imaging|scans|studies|they|it) (expire|expires|get deleted|are deleted|disappear)| (expiry|retention|purged|30 days) |how long (do|will|would) (i|we|you) have/ },
  { topic: 'export', pattern: / (export|exporting|(our|uhb|uh bristol|bri|bch) (images|imaging|scans|ct|mri|xray|x ray|study|studies|films) (sent|need to go|needs to go|to go|transferred|sending)|want (our|the uhb|uhb) (images|imaging|scans|ct|mri|xray|study|studies) |(images|imaging|scans) (need|needs) to go to|how do i send (them|it) to|send (them|it) over to|send (our|my|the|uh bristol|uhb|bri|bch)? ?(images|imaging|scans|ct|mri|xray|x ray|study|studies) to|sending (our|my|the)? ?(images|imaging|scans) to|transfer (our|my|uh bristol|uhb) (images|imaging|scans)|share (our|my) (images|imaging|scans)|push (images|imaging|scans) to|another hospital (wants|needs|is asking for) (our|the|my)) / },
  { topic: 'connect-share', pattern: / connect and share|connect share|connectandshare|c and s / },
  { topic: 'iep', pattern: / (iep|image exchange portal|request form|crishelp|data import sheet) / },
  { topic: 'account', pattern: / (password|passwords|reset|helpdesk|help desk|service desk|it desk|locked out|log ?in|login|logon|log on|account|accounts|username|user name|web ?link|weblink|link|url|web address|web browser|website|portal|access form|application form|sign in|signin) / },
  { topic: 'about', pattern: / (who wrote|which version|what version|review date|guide version|how old is|is the guide|document control|author of the guide) / },
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

const offTopic = / (ignore (all |any |your |the |previous |prior |above )*(instructions|rules|prompt)|disregard|system prompt|jailbreak|pretend|roleplay|role play|you are now|act as|repeat after me|say that|say the word|tell me a joke|joke|poem|song|story|weather|football|recipe|bitcoin|lottery|horoscope|write (me )?(a|an|some) (essay|email|letter|code)|translate|capital of|who is the (president|prime minister)|stock price|hack|api key) /;

/** True when the question is off topic or tries to make the bot say something else. */
export function isOffTopic(text: string): boolean {
  return offTopic.test(wordLine(text));
}

const imagingWords = / (image|images|imaging|scan|scans|ct|mri|mr|xray|x ray|xrays|ultrasound|us|pet|study|studies|films|pacs|radiology|report|echo|angio|mammogram|nm|dexa|view|viewer|access|get|see|look at|pull|transfer|send|sent|iep|p2p|guide|help) /;

/** True when the text has any word about images or getting them (a guard against stray matches). */
export function mentionsImaging(text: string): boolean {
  return imagingWords.test(wordLine(text));
}
