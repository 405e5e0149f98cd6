/**
 * English instructions -> intents, for the built-in planner. Deliberately small and predictable: a clause
 * is found by its verb, its noun phrases are split at their preposition, and anything that is not
 * recognised is reported back word for word rather than guessed. World-independent: which object "the red
 * cube" is, is the planner's business (builtin-planner.ts).
 */

export type Point = number[];

/** A noun phrase with what it says about its referent. */
export interface NounPhrase {
  /** The words as written (after normalisation), for error messages. */
  text: string;
  /** "all", "every", "both", "everything" or a plural head noun. */
  all: boolean;
  colors: string[];
  sizeMm?: number;
  /** "small", "smallest" -> 'min'; "big", "largest" -> 'max'. */
  extreme?: 'min' | 'max';
  /** The head noun, singular; absent for pronouns and generic words ("thing", "everything"). */
  head?: string;
  /** "it", "that", "them": the object last spoken of, or the one held. */
  pronoun: boolean;
  /** "me", "the customer", "him": a person to hand something to. */
  person: boolean;
}

export type Intent =
  | { kind: 'pick'; what: NounPhrase }
  | { kind: 'place'; what: NounPhrase | null; where: NounPhrase }
  | { kind: 'insert'; what: NounPhrase | null; where: NounPhrase | null }
  | { kind: 'serve'; what: NounPhrase | null; to: NounPhrase | null }
  | { kind: 'tidy'; what: NounPhrase | null; where: NounPhrase | null }
  | { kind: 'release' }
  | { kind: 'home' }
  | { kind: 'stand'; seconds: number | null }
  | { kind: 'walk'; points: Point[] }
  | { kind: 'walk_relative'; distanceM: number; direction: 'forward' | 'back' | 'left' | 'right' }
  | { kind: 'walk_target'; where: NounPhrase }
  | { kind: 'route' }
  | { kind: 'move_to'; points: Point[] };

export interface Clause {
  /** The clause as written (points restored), for messages. */
  text: string;
  intent: Intent | null;
  /** Why `intent` is null. */
  problem?: string;
}

const NUM = '-?\\d+(?:\\.\\d+)?';
const WORD_NUMBERS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  ninety: 90,
};
/** A number in digits, or in words followed by a space (so the 'a' of "as" is not one). */
const NUM_OR_WORD = `(?<![\\w.])(${NUM}|(?:${Object.keys(WORD_NUMBERS).join('|')})(?=\\s))`;

const wordSet = (list: string) => new Set(list.split(' '));
const COLORS = wordSet(
  'red green blue yellow orange purple violet pink white black gray grey brown cyan magenta gold silver',
);
const PERSON = wordSet('me us him her customer guest visitor client person user human someone somebody');
const PRONOUNS = wordSet('it that this them those these');
const QUANTIFIERS = wordSet('all every each both everything');
const GENERIC = wordSet('object thing item stuff one everything mess clutter');
/** Words that say nothing about which thing is meant ("the", "my", "the hand-over spot"). */
const NOISE = wordSet(
  'the a an my your our their his its some of up away please other remaining rest just again back there here spot',
);
const SMALL = wordSet('small smaller smallest little tiny thin thinnest narrow');
const LARGE = wordSet('big bigger biggest large larger largest thick thickest wide');

/** 'toys' -> 'toy', 'boxes' -> 'box', 'cubes' -> 'cube'; returns the word unchanged when not plural. */
export function singular(w: string): string {
  if (w.length <= 3 || w.endsWith('ss') || w.endsWith('us')) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (/(x|ch|sh|ss)es$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

/** Parses "the two small red cubes", "8 mm peg", "it", "the customer". */
export function parseNounPhrase(raw: string): NounPhrase {
  // "customer's" -> "customer"; "hand-over", "hand over" -> "handover" (one word, as scene names have it).
  let text = raw
    .trim()
    .replace(/['’]s\b/g, '')
    .replace(/\b(\w+)-(\w+)\b/g, '$1$2')
    .replace(/\bhand over\b/g, 'handover');
  const np: NounPhrase = { text, all: false, colors: [], pronoun: false, person: false };
  const size = text.match(/(\d+(?:\.\d+)?)\s*(mm|millimet(?:er|re)s?|cm|centimet(?:er|re)s?)\b/);
  if (size) {
    np.sizeMm = Number(size[1]) * (size[2]!.startsWith('c') ? 10 : 1);
    text = text.replace(size[0], ' ');
  }
  let words = text.split(/[^a-z0-9.]+/).filter((w) => w.length > 0 && !NOISE.has(w));
  words = words.filter((w) => {
    if (QUANTIFIERS.has(w)) np.all = true;
    else if (COLORS.has(w)) np.colors.push(w === 'grey' ? 'gray' : w);
    else if (SMALL.has(w)) np.extreme = 'min';
    else if (LARGE.has(w)) np.extreme = 'max';
    else if (w in WORD_NUMBERS && w !== 'one') np.all = np.all || WORD_NUMBERS[w]! > 1;
    else return true;
    return false;
  });
  const last = words.at(-1);
  if (last === undefined) return np;
  if (PRONOUNS.has(last) && words.length === 1) {
    np.pronoun = true;
    np.all = last !== 'it' && last !== 'that' && last !== 'this';
    return np;
  }
  if (words.some((w) => PERSON.has(w))) np.person = true;
  const head = singular(last);
  if (head !== last && !PERSON.has(last)) np.all = true;
  if (!GENERIC.has(head) && !PERSON.has(last)) np.head = head;
  if (last === 'everything') np.all = true;
  return np;
}

/** Seconds in "for 10 seconds", "for two minutes", "500 ms"; null when the clause names no duration. */
export function parseDurationSec(text: string): number | null {
  const m = text.match(new RegExp(`${NUM_OR_WORD}\\s*(ms|milliseconds?|s|secs?|seconds?|mins?|minutes?)\\b`));
  if (!m) return null;
  const n = m[1]! in WORD_NUMBERS ? WORD_NUMBERS[m[1]!]! : Number(m[1]);
  const unit = m[2]!;
  if (unit.startsWith('ms') || unit.startsWith('milli')) return n / 1000;
  if (unit.startsWith('min')) return n * 60;
  return n;
}

/** Words that a clause may open with and that carry nothing ("please", "can you", "then"). */
const FILLER =
  /^(?:please|kindly|now|ok|okay|hey|robot|and|then|first|firstly|also|next|finally|lastly|after that|afterwards|could you|can you|would you|will you|go ahead and|i want you to|i'd like you to|i would like you to|i need you to)\b[\s,]*/;

function stripFiller(s: string): string {
  let out = s.trim();
  for (;;) {
    const next = out.replace(FILLER, '').trim();
    if (next === out) break;
    out = next;
  }
  return out.replace(/\s+please$/, '').trim();
}

/** Replaces coordinates with @p<i> tokens so that their commas do not split clauses. */
function protectPoints(s: string, points: Point[]): string {
  const token = (nums: (string | undefined)[]) => {
    points.push(nums.filter((n): n is string => n !== undefined).map(Number));
    return ` @p${points.length - 1} `;
  };
  const unit = '\\s*(?:m\\b)?\\s*';
  s = s.replace(
    new RegExp(`[(\\[]\\s*(${NUM})${unit},\\s*(${NUM})${unit}(?:,\\s*(${NUM})${unit})?[)\\]]`, 'g'),
    (_m, a: string, b: string, c?: string) => token([a, b, c]),
  );
  s = s.replace(
    new RegExp(
      `\\bx\\s*[=:]?\\s*(${NUM})${unit},?\\s*(?:and\\s+)?y\\s*[=:]?\\s*(${NUM})(?:${unit},?\\s*(?:and\\s+)?z\\s*[=:]?\\s*(${NUM}))?(?:\\s*m\\b)?`,
      'g',
    ),
    (_m, a: string, b: string, c?: string) => token([a, b, c]),
  );
  s = s.replace(
    new RegExp(
      `\\b(to|at)\\s+(?:the\\s+)?(?:point|position|location|coordinates?)?\\s*(${NUM})${unit},\\s*(${NUM})(?:${unit},\\s*(${NUM}))?(?:\\s*m\\b)?`,
      'g',
    ),
    (_m, prep: string, a: string, b: string, c?: string) => `${prep} ${token([a, b, c])}`,
  );
  return s;
}

function restorePoints(s: string, points: Point[]): string {
  return s
    .replace(/@p(\d+)/g, (_m, i: string) => `(${points[Number(i)]!.join(', ')})`)
    .replace(/\s+/g, ' ')
    .trim();
}

/** Splits an instruction into clauses: at '.', ';', 'then', 'after that', and at ',' or 'and' before a verb. */
function splitClauses(s: string): string[] {
  const hard = s
    .replace(/->|→|=>/g, ' then ')
    .split(/\s*(?:[;!?]|\.(?=\s|$)|\bthen\b|\bafter that\b|\bafterwards\b|\bfinally\b|\blastly\b)\s*/);
  const verbAlt = Object.keys(VERB_GROUPS).join('|');
  const beforeVerb = new RegExp(`\\s*(?:,\\s*(?:and\\s+)?|\\band\\s+)(?=(?:${verbAlt})\\b)`);
  return hard.flatMap((c) => c.split(beforeVerb)).map((c) => stripFiller(c.replace(/^[,\s]+|[,\s]+$/g, '')));
}

function pointsIn(s: string, points: Point[]): Point[] {
  return [...s.matchAll(/@p(\d+)/g)].map((m) => points[Number(m[1])]!);
}

const PREP = '(?:into|in to|inside|in|onto|on top of|on|to|at|over|next to|towards|toward)';

/** Splits "X <prep> Y" at the first preposition; either side may be empty. */
function splitAtPreposition(s: string): { what: string; where: string | null } {
  const m = s.match(new RegExp(`^(.*?)\\s*\\b${PREP}\\b\\s*(.*)$`));
  if (!m) return { what: s.trim(), where: null };
  return { what: m[1]!.trim(), where: m[2]!.trim() };
}

function np(s: string | null | undefined): NounPhrase | null {
  if (s === null || s === undefined) return null;
  const p = parseNounPhrase(s);
  return p.text.trim() === '' ? null : p;
}

const DIRECTION = '(forwards?|ahead|straight|back(?:wards?)?|left|right)';
const METRES = '\\s*(?:m|meters?|metres?)\\b';
const RELATIVE = [
  new RegExp(`${NUM_OR_WORD}${METRES}\\s*${DIRECTION}`),
  new RegExp(`${DIRECTION}\\s+(?:by\\s+|for\\s+)?${NUM_OR_WORD}${METRES}`),
];

function relativeWalk(rest: string): Intent | null {
  let num: string | undefined;
  let dir: string | undefined;
  const a = rest.match(RELATIVE[0]!);
  const b = a ? null : rest.match(RELATIVE[1]!);
  if (a) [num, dir] = [a[1], a[2]];
  else if (b) [dir, num] = [b[1], b[2]];
  if (num === undefined || dir === undefined) return null;
  const distanceM = num in WORD_NUMBERS ? WORD_NUMBERS[num]! : Number(num);
  const direction = dir.startsWith('back') ? 'back' : dir === 'left' || dir === 'right' ? dir : 'forward';
  return { kind: 'walk_relative', distanceM, direction };
}

/** Intents with coordinates: 2-D points are floor positions to walk to, 3-D ones grip-site positions. */
function pointIntent(at: Point[]): Intent | null {
  if (at.every((p) => p.length === 2)) return { kind: 'walk', points: at };
  if (at.every((p) => p.length === 3)) return { kind: 'move_to', points: at };
  return null;
}

/** "to X" after a motion verb: coordinates, "home", a distance and direction, or a named place. */
function motionIntent(rest: string, at: Point[]): Intent | null {
  if (at.length > 0) return pointIntent(at);
  const rel = relativeWalk(rest);
  if (rel) return rel;
  const to = rest.match(/^(?:over\s+|back\s+)?(?:to|towards?)\s+(.*)$/);
  const dest = to ? to[1]!.trim() : rest;
  if (
    /^(?:the\s+|your\s+)?(home|start|home position|starting position|rest)\b/.test(dest) ||
    dest === 'back'
  ) {
    return { kind: 'home' };
  }
  if (/\b(route|path|waypoints|course|circuit)\b/.test(dest)) return { kind: 'route' };
  const where = to ? np(dest) : null;
  return where ? { kind: 'walk_target', where } : null;
}

function pickIntent(rest: string): Intent | null {
  // "take the cup to the customer": a pick that names a destination is a carry.
  const carry = rest.match(/^(.*?)\s*\b(?:to|into|onto|over to)\b\s*(.+)$/);
  if (carry) {
    const where = np(carry[2]);
    if (where) return { kind: 'place', what: np(carry[1]!.replace(/\bup\b/g, ' ')), where };
  }
  const what = np(rest.replace(/\bup\b/g, ' '));
  return what ? { kind: 'pick', what } : null;
}

function placeIntent(verb: string, rest: string): Intent | string {
  if (/\baway\b/.test(rest)) return tidyIntent(rest);
  const { what, where } = splitAtPreposition(rest.replace(/\bdown\b/g, ' '));
  const target = np(where);
  if (target) return { kind: 'place', what: np(what), where: target };
  // "drop it", "put the cube down": let go where the gripper is.
  if (verb === 'drop' || /\bdown\b/.test(rest)) return { kind: 'release' };
  return `${verb} ${what || 'it'} where?`;
}

function serveIntent(rest: string): Intent {
  // "give me the cup", "bring the customer the cup": the person first, then the thing.
  const dative = rest.match(/^(me|us|him|her|them|the (?:customer|guest|visitor|client|person))\s+(.+)$/);
  if (dative) return { kind: 'serve', what: np(dative[2]), to: np(dative[1]) };
  const { what, where } = splitAtPreposition(rest.replace(/^over\b/, ''));
  const w = np(what);
  if (w?.person && !where) return { kind: 'serve', what: null, to: w };
  return { kind: 'serve', what: w, to: np(where) };
}

function tidyIntent(rest: string): Intent {
  const { what, where } = splitAtPreposition(rest.replace(/\b(up|away)\b/g, ' '));
  return { kind: 'tidy', what: np(what), where: np(where) };
}

function standIntent(c: string): Intent {
  return { kind: 'stand', seconds: parseDurationSec(c) };
}

/** A verb's reading of its clause: an intent, null when not understood, or a question back (a string). */
type VerbHandler = (verb: string, rest: string, c: string, at: Point[]) => Intent | string | null;
const VERB_GROUPS: Record<string, VerbHandler> = {};
function verbs(words: string, handler: VerbHandler) {
  for (const w of words.split(' ')) VERB_GROUPS[w] = handler;
}
verbs('pick grab grasp take lift get fetch collect', (_v, rest) => pickIntent(rest));
verbs('hold', (_v, rest, c) =>
  /^(still|steady|position|your balance|balance)\b/.test(rest) ? standIntent(c) : pickIntent(rest),
);
verbs('put place drop set stack load throw toss deposit transfer carry', placeIntent);
verbs('insert plug slot fit', (_v, rest) => {
  const { what, where } = splitAtPreposition(rest);
  return { kind: 'insert', what: np(what), where: np(where) };
});
verbs('serve bring deliver hand give pass offer', (_v, rest) => serveIntent(rest));
verbs('tidy clean clear declutter pack sort organize organise', (_v, rest) => tidyIntent(rest));
verbs('walk step stroll navigate travel drive head come', (_v, rest, _c, at) => motionIntent(rest, at));
verbs('go', (_v, rest, _c, at) => (/^(home|back)\b/.test(rest) ? { kind: 'home' } : motionIntent(rest, at)));
verbs('move', (v, rest, _c, at) =>
  at.length > 0 || /^(over\s+)?(to|towards?|forwards?|ahead|back(wards?)?|left|right|\S+\s*m\b)/.test(rest)
    ? motionIntent(rest, at)
    : placeIntent(v, rest),
);
verbs('reach', (_v, rest, _c, at) => (at.length > 0 ? pointIntent(at) : motionIntent(rest, at)));
verbs('follow', (_v, rest) =>
  /\b(route|path|waypoints|course|circuit)\b/.test(rest) ? { kind: 'route' } : null,
);
verbs('return', (v, rest, _c, at) =>
  at.length > 0 || /^(home|back|to\b)/.test(rest)
    ? (motionIntent(rest, at) ?? { kind: 'home' })
    : placeIntent(v, rest),
);
verbs('home retract park reset', () => ({ kind: 'home' }));
verbs('release ungrasp open', () => ({ kind: 'release' }));
verbs('let', (_v, rest) => (/^go\b/.test(rest) ? { kind: 'release' } : null));
verbs('stand balance stay keep remain recover resist withstand wait', (_v, _rest, c) => standIntent(c));

function clauseIntent(c: string, pts: Point[], previous: Intent | null): Intent | string | null {
  const at = pointsIn(c, pts);
  // "(1, 1)" alone after "walk to (1, 0) then": the previous clause's verb carries over.
  if (at.length > 0 && c.replace(/@p\d+|\b(and|to)\b/g, '').trim() === '') {
    const cont = pointIntent(at);
    return cont && previous && cont.kind === previous.kind ? cont : null;
  }
  const m = c.match(/^([a-z]+)\b\s*(.*)$/);
  const handler = m && Object.hasOwn(VERB_GROUPS, m[1]!) ? VERB_GROUPS[m[1]!]! : null;
  if (handler) return handler(m![1]!, m![2]!.trim(), c, at);
  // "walk 2 m forward, then 1 m left": a verbless motion continues the previous one.
  if (
    previous &&
    (previous.kind === 'walk' || previous.kind === 'walk_relative' || previous.kind === 'move_to')
  ) {
    return motionIntent(c, at);
  }
  return null;
}

/** The verbs the parser knows, for "did not understand" messages. */
export const KNOWN_ACTIONS =
  'pick up, put/place ... in/on ..., insert, serve/bring, tidy up, walk to (x, y), walk N m forward, move to (x, y, z), stand for N s, release, go home';

export function parseInstruction(instruction: string): Clause[] {
  const points: Point[] = [];
  const norm = protectPoints(instruction.toLowerCase().replace(/[’`]/g, "'").replace(/\s+/g, ' '), points);
  const clauses: Clause[] = [];
  let previous: Intent | null = null;
  for (const c of splitClauses(norm)) {
    if (c === '') continue;
    const intent = clauseIntent(c, points, previous);
    const text = restorePoints(c, points);
    if (intent !== null && typeof intent === 'object') clauses.push({ text, intent });
    else {
      const why = typeof intent === 'string' ? `: ${restorePoints(intent, points)}` : '';
      clauses.push({ text, intent: null, problem: `did not understand "${text}"${why}` });
    }
    previous = typeof intent === 'object' ? intent : null;
  }
  return clauses;
}
