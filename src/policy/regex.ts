// regex.replace as OPA computes it: Go's regexp (RE2 syntax, leftmost-first)
// ReplaceAllString with Go's template expansion ($1, ${1}, $name, $$).
//
// A Go pattern is parsed with Go's grammar (regexp/syntax, Perl flags) and
// translated to an equivalent JavaScript RegExp with the `u` flag; a pattern Go
// would refuse is refused (undefined, as OPA's non-strict builtin error). Where
// the two engines differ, the translation spells Go's meaning out:
// - `.` excludes only "\n"; `\s` is [\t\n\f\r ]; `$` is end of text unless (?m);
// - flags (?i)(?m)(?s)(?U) apply to the atoms they cover, so (?i) becomes a
//   per-atom `(?i:...)` modifier and (?U) swaps greediness;
// - ReplaceAll skips an empty match right after a previous match.
// Known gaps: the Unicode tables are V8's, not Go's; a case-insensitive class
// holding a negated Unicode property folds as JavaScript does. JavaScript's
// engine backtracks where RE2 does not: a pathological pattern can be slow,
// which the engine's time budget reports after the fact.

type Flags = { i: boolean; m: boolean; s: boolean; U: boolean };

type Range = readonly [number, number];

interface ClassSet {
  ranges: Range[];
  /** Contents of JS `\p{...}` escapes included in the set. */
  props: string[];
  /** Groups of JS `\p{...}` contents; the complement of each group's union is included. */
  negProps: string[][];
}

type Node =
  | { t: 'lit'; cp: number; fold: boolean }
  | { t: 'class'; set: ClassSet; negated: boolean; fold: boolean }
  | { t: 'raw'; js: string } // an assertion or a fold-free set, already in JS syntax
  | { t: 'group'; capture: boolean; body: Node }
  | { t: 'alt'; alts: Node[] }
  | { t: 'cat'; items: Node[] }
  | { t: 'rep'; body: Node; min: number; max: number; greedy: boolean };

class SyntaxErr extends Error {}

const MAX_CODE_POINT = 0x10ffff;
const MAX_REPEAT = 1000;

const PERL_CLASSES: Readonly<Record<string, readonly Range[]>> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

const POSIX_CLASSES: Readonly<Record<string, readonly Range[]>> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

// Go's unicode.Categories (plus the LC alias); `C` is Cc|Cf|Co|Cs in Go but
// includes Cn in JavaScript, so it is spelled out.
const CATEGORIES: ReadonlySet<string> = new Set(
  'C Cc Cf Cn Co Cs L LC Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(
    ' ',
  ),
);

// Go's unicode.Scripts that its lookup can reach: Go canonicalizes the name
// (first letter upper, the rest lower, no "_") and then needs an exact key, so
// multi-word scripts (Old_Italic) are unreachable. From Go 1.26's tables.
const SCRIPTS: ReadonlySet<string> = new Set(
  'Adlam Ahom Arabic Armenian Avestan Balinese Bamum Batak Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Carian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cyrillic Deseret Devanagari Dogra Duployan Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gurmukhi Han Hangul Hanunoo Hatran Hebrew Hiragana Inherited Javanese Kaithi Kannada Katakana Kawi Kharoshthi Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen Medefaidrin Miao Modi Mongolian Mro Multani Myanmar Nabataean Nandinagari Newa Nko Nushu Ogham Oriya Osage Osmanya Palmyrene Phoenician Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham Sinhala Sogdian Soyombo Sundanese Syriac Tagalog Tagbanwa Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Yezidi Yi'.split(
    ' ',
  ),
);

// Go's unicode.CategoryAliases, keyed by Go's canonicalName.
const CATEGORY_ALIASES: Readonly<Record<string, string>> = {
  Casedletter: 'LC',
  Closepunctuation: 'Pe',
  Combiningmark: 'M',
  Connectorpunctuation: 'Pc',
  Control: 'Cc',
  Currencysymbol: 'Sc',
  Dashpunctuation: 'Pd',
  Decimalnumber: 'Nd',
  Enclosingmark: 'Me',
  Finalpunctuation: 'Pf',
  Format: 'Cf',
  Initialpunctuation: 'Pi',
  Letter: 'L',
  Letternumber: 'Nl',
  Lineseparator: 'Zl',
  Lowercaseletter: 'Ll',
  Mark: 'M',
  Mathsymbol: 'Sm',
  Modifierletter: 'Lm',
  Modifiersymbol: 'Sk',
  Nonspacingmark: 'Mn',
  Number: 'N',
  Openpunctuation: 'Ps',
  Other: 'C',
  Otherletter: 'Lo',
  Othernumber: 'No',
  Otherpunctuation: 'Po',
  Othersymbol: 'So',
  Paragraphseparator: 'Zp',
  Privateuse: 'Co',
  Punctuation: 'P',
  Separator: 'Z',
  Spaceseparator: 'Zs',
  Spacingmark: 'Mc',
  Surrogate: 'Cs',
  Symbol: 'S',
  Titlecaseletter: 'Lt',
  Unassigned: 'Cn',
  Uppercaseletter: 'Lu',
  Cntrl: 'Cc',
  Digit: 'Nd',
  Punct: 'P',
};

class Parser {
  readonly #cps: number[];
  #pos = 0;
  #groups = 0;
  readonly names: (string | undefined)[] = [undefined];

  constructor(pattern: string) {
    this.#cps = Array.from(pattern, (c) => c.codePointAt(0) as number);
  }

  parse(): Node {
    const node = this.#alternation({ i: false, m: false, s: false, U: false });
    if (this.#pos < this.#cps.length) throw new SyntaxErr('unexpected )');
    return node;
  }

  #peek(offset = 0): string | undefined {
    const cp = this.#cps[this.#pos + offset];
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  #next(): string {
    const c = this.#peek();
    if (c === undefined) throw new SyntaxErr('unexpected end of pattern');
    this.#pos++;
    return c;
  }

  // Flags set by (?i) last to the end of the enclosing group, across `|`.
  #alternation(flags: Flags): Node {
    const alts = [this.#concatenation(flags)];
    while (this.#peek() === '|') {
      this.#pos++;
      alts.push(this.#concatenation(flags));
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
  }

  #concatenation(flags: Flags): Node {
    const items: Node[] = [];
    let lastWasRepeat = false;
    for (;;) {
      const c = this.#peek();
      if (c === undefined || c === '|' || c === ')') break;
      const repeat = this.#repeatOperator();
      if (repeat !== undefined) {
        // Go: `a**` is an error, not a doubled star.
        if (lastWasRepeat) throw new SyntaxErr('invalid nested repetition operator');
        const body = items.pop();
        if (body === undefined) throw new SyntaxErr('missing argument to repetition operator');
        let greedy = !flags.U;
        if (this.#peek() === '?') {
          this.#pos++;
          greedy = !greedy;
        }
        items.push({ t: 'rep', body, min: repeat.min, max: repeat.max, greedy });
        lastWasRepeat = true;
        continue;
      }
      lastWasRepeat = false;
      const atom = this.#atom(flags);
      if (atom !== undefined) items.push(...(Array.isArray(atom) ? atom : [atom]));
    }
    return items.length === 1 ? (items[0] as Node) : { t: 'cat', items };
  }

  #repeatOperator(): { min: number; max: number } | undefined {
    const c = this.#peek();
    if (c === '*' || c === '+' || c === '?') {
      this.#pos++;
      return { min: c === '+' ? 1 : 0, max: c === '?' ? 1 : -1 };
    }
    if (c !== '{') return undefined;
    // {n}, {n,} or {n,m}; anything else makes `{` a literal.
    const rest = this.#cps.slice(this.#pos, this.#pos + 40).map((cp) => String.fromCodePoint(cp));
    const m = /^\{(\d+)(,(\d*))?\}/.exec(rest.join(''));
    if (m === null) return undefined;
    const [whole, lo = '', comma, hi = ''] = m;
    const leadingZero = (s: string): boolean => s.length > 1 && s.startsWith('0');
    if (leadingZero(lo) || leadingZero(hi)) return undefined;
    const min = Number(lo);
    const max = comma === undefined ? min : hi === '' ? -1 : Number(hi);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
      throw new SyntaxErr('invalid repeat count');
    }
    this.#pos += whole.length;
    return { min, max };
  }

  #atom(flags: Flags): Node | Node[] | undefined {
    const c = this.#next();
    switch (c) {
      case '(':
        return this.#group(flags);
      case '[':
        return this.#bracketClass(flags);
      case '.':
        return { t: 'raw', js: flags.s ? '[\\u{0}-\\u{10ffff}]' : '[^\\n]' };
      case '^':
        return { t: 'raw', js: flags.m ? '(?<![^\\n])' : '^' };
      case '$':
        return { t: 'raw', js: flags.m ? '(?![^\\n])' : '$' };
      case '\\':
        return this.#escape(flags);
      default:
        return { t: 'lit', cp: c.codePointAt(0) as number, fold: flags.i };
    }
  }

  #group(flags: Flags): Node | undefined {
    if (this.#peek() !== '?') {
      const index = ++this.#groups;
      this.names[index] = undefined;
      return this.#groupBody({ ...flags }, true);
    }
    this.#pos++;
    // (?P<name>re) and (?<name>re)
    if (this.#peek() === 'P' || (this.#peek() === '<' && /[\w]/.test(this.#peek(1) ?? ''))) {
      if (this.#peek() === 'P') this.#pos++;
      if (this.#next() !== '<') throw new SyntaxErr('invalid named capture');
      let name = '';
      for (let c = this.#next(); c !== '>'; c = this.#next()) name += c;
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw new SyntaxErr('invalid named capture');
      const index = ++this.#groups;
      this.names[index] = name;
      return this.#groupBody({ ...flags }, true);
    }
    // (?flags) or (?flags:re)
    const next = { ...flags };
    let negate = false;
    let sawFlag = false;
    for (;;) {
      const c = this.#next();
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        next[c] = !negate;
        sawFlag = true;
      } else if (c === '-') {
        if (negate) throw new SyntaxErr('invalid flags');
        negate = true;
        sawFlag = false;
      } else if (c === ':' || c === ')') {
        if (negate && !sawFlag) throw new SyntaxErr('invalid flags');
        if (c === ':') return this.#groupBody(next, false);
        Object.assign(flags, next); // to the end of the enclosing group
        return undefined;
      } else {
        // lookaround, atomic groups, backreferences: not RE2
        throw new SyntaxErr('invalid or unsupported group');
      }
    }
  }

  #groupBody(flags: Flags, capture: boolean): Node {
    const body = this.#alternation(flags);
    if (this.#peek() !== ')') throw new SyntaxErr('missing closing )');
    this.#pos++;
    return { t: 'group', capture, body };
  }

  #escape(flags: Flags): Node | Node[] {
    const c = this.#peek();
    switch (c) {
      case 'A':
        this.#pos++;
        return { t: 'raw', js: '^' };
      case 'z':
        this.#pos++;
        return { t: 'raw', js: '$' };
      case 'b':
      case 'B':
        this.#pos++;
        return { t: 'raw', js: `\\${c}` };
      case 'Q': {
        // \Q...\E: literal text
        this.#pos++;
        const out: Node[] = [];
        while (this.#pos < this.#cps.length) {
          if (this.#peek() === '\\' && this.#peek(1) === 'E') {
            this.#pos += 2;
            break;
          }
          out.push({ t: 'lit', cp: this.#cps[this.#pos++] as number, fold: flags.i });
        }
        return out;
      }
      default: {
        const set = this.#classEscape(flags.i);
        if (set !== undefined) return { t: 'class', set, negated: false, fold: flags.i };
        return { t: 'lit', cp: this.#charEscape(), fold: flags.i };
      }
    }
  }

  /** \d \s \w (and negations), \pN, \p{Name}, \PN, \P{^Name}; undefined if not one. */
  #classEscape(fold: boolean): ClassSet | undefined {
    const c = this.#peek();
    if (c === undefined) throw new SyntaxErr('trailing backslash');
    const lower = c.toLowerCase();
    if (Object.hasOwn(PERL_CLASSES, lower) && (c === lower || c.toUpperCase() === c)) {
      this.#pos++;
      return asciiSet(PERL_CLASSES[lower] as readonly Range[], c !== lower, fold);
    }
    if (c !== 'p' && c !== 'P') return undefined;
    this.#pos++;
    let name: string;
    if (this.#peek() === '{') {
      this.#pos++;
      name = '';
      for (let ch = this.#next(); ch !== '}'; ch = this.#next()) name += ch;
    } else {
      name = this.#next();
    }
    let negated = c === 'P';
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    return unicodeSet(name, negated);
  }

  // Go's parseEscape: the escapes that stand for one character.
  #charEscape(): number {
    const c = this.#next();
    const cp = c.codePointAt(0) as number;
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp; // escaped punctuation, \_ included
    const octal = (ch: string | undefined): boolean => ch !== undefined && /[0-7]/.test(ch);
    if (/[1-7]/.test(c) && !octal(this.#peek())) {
      throw new SyntaxErr('backreferences are not supported');
    }
    if (/[0-7]/.test(c)) {
      let r = cp - 0x30;
      for (let i = 1; i < 3 && octal(this.#peek()); i++)
        r = r * 8 + (this.#next().codePointAt(0) as number) - 0x30;
      return r;
    }
    switch (c) {
      case 'x': {
        if (this.#peek() === '{') {
          this.#pos++;
          let hex = '';
          for (let ch = this.#next(); ch !== '}'; ch = this.#next()) hex += ch;
          if (!/^[0-9A-Fa-f]+$/.test(hex)) throw new SyntaxErr('invalid escape');
          const r = parseInt(hex, 16);
          if (r > MAX_CODE_POINT) throw new SyntaxErr('invalid escape');
          return r;
        }
        const hex = this.#next() + this.#next();
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new SyntaxErr('invalid escape');
        return parseInt(hex, 16);
      }
      case 'a':
        return 0x07;
      case 'f':
        return 0x0c;
      case 'n':
        return 0x0a;
      case 'r':
        return 0x0d;
      case 't':
        return 0x09;
      case 'v':
        return 0x0b;
      default:
        throw new SyntaxErr(`invalid escape \\${c}`);
    }
  }

  #bracketClass(flags: Flags): Node {
    const set: ClassSet = { ranges: [], props: [], negProps: [] };
    let negated = false;
    if (this.#peek() === '^') {
      this.#pos++;
      negated = true;
    }
    let first = true; // `]` and `-` are literal as the first character
    for (;;) {
      const c = this.#peek();
      if (c === undefined) throw new SyntaxErr('missing closing ]');
      if (c === ']' && !first) {
        this.#pos++;
        break;
      }
      first = false;
      if (c === '[' && this.#peek(1) === ':') {
        const posix = this.#posixClass(flags.i);
        if (posix !== undefined) {
          addSet(set, posix);
          continue;
        }
      }
      if (c === '\\') {
        this.#pos++;
        const escaped = this.#classEscape(flags.i);
        if (escaped !== undefined) {
          addSet(set, escaped);
          continue;
        }
        this.#pos--;
      }
      const lo = this.#classChar();
      let hi = lo;
      if (this.#peek() === '-' && this.#peek(1) !== ']' && this.#peek(1) !== undefined) {
        this.#pos++;
        hi = this.#classChar();
        if (hi < lo) throw new SyntaxErr('invalid character class range');
      }
      set.ranges.push([lo, hi]);
    }
    return { t: 'class', set, negated, fold: flags.i };
  }

  #classChar(): number {
    const c = this.#next();
    if (c === '\\') return this.#charEscape();
    return c.codePointAt(0) as number;
  }

  // [:alpha:] and [:^alpha:]; Go looks for the closing ":]" anywhere after.
  #posixClass(fold: boolean): ClassSet | undefined {
    const rest = this.#cps
      .slice(this.#pos + 2)
      .map((cp) => String.fromCodePoint(cp))
      .join('');
    const end = rest.indexOf(':]');
    if (end < 0) return undefined;
    let name = rest.slice(0, end);
    const negated = name.startsWith('^');
    if (negated) name = name.slice(1);
    if (!Object.hasOwn(POSIX_CLASSES, name)) throw new SyntaxErr('invalid character class range');
    this.#pos += 2 + end + 2;
    return asciiSet(POSIX_CLASSES[name] as readonly Range[], negated, fold);
  }
}

// An ASCII-defined class. Negated under (?i), Go takes the complement of the
// case-folded set; spelled out here so JavaScript's folding cannot widen it
// (folding reaches outside ASCII only at K/k -> U+212A and S/s -> U+017F).
function asciiSet(ranges: readonly Range[], negated: boolean, fold: boolean): ClassSet {
  if (!negated) return { ranges: [...ranges], props: [], negProps: [] };
  const folded = fold ? foldAscii(ranges) : [...ranges];
  return { ranges: complement(folded), props: [], negProps: [] };
}

function foldAscii(ranges: readonly Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    for (let cp = lo; cp <= hi && cp < 0x80; cp++) {
      const ch = String.fromCharCode(cp);
      const other = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
      const o = other.charCodeAt(0);
      if (other !== ch) out.push([o, o]);
      if (ch === 'k' || ch === 'K') out.push([0x212a, 0x212a]);
      if (ch === 's' || ch === 'S') out.push([0x17f, 0x17f]);
    }
  }
  return out;
}

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function unicodeSet(rawName: string, negated: boolean): ClassSet {
  const name = canonicalName(rawName);
  const props: string[] = [];
  const ranges: Range[] = [];
  let inverted = negated;
  if (name === 'Any') ranges.push([0, MAX_CODE_POINT]);
  else if (name === 'Ascii') ranges.push([0, 0x7f]);
  else if (name === 'Assigned') {
    props.push('Cn');
    inverted = !inverted;
  } else if (name === 'C') props.push('Cc', 'Cf', 'Co', 'Cs');
  else if (name === 'Lc') props.push('LC');
  else if (CATEGORIES.has(name)) props.push(name);
  else if (Object.hasOwn(CATEGORY_ALIASES, name)) props.push(CATEGORY_ALIASES[name] as string);
  else if (SCRIPTS.has(name) && isJsScript(name)) props.push(`Script=${name}`);
  else {
    throw new SyntaxErr(`invalid character class range \\p{${rawName}}`);
  }
  if (!inverted) return { ranges, props, negProps: [] };
  if (props.length === 0) return { ranges: complement(ranges), props: [], negProps: [] };
  return { ranges: [], props: [], negProps: [props] };
}

function isJsScript(name: string): boolean {
  try {
    new RegExp(`\\p{Script=${name}}`, 'u');
    return true;
  } catch {
    return false;
  }
}

// Go's regexp/syntax canonicalName: first letter upper, others lower, no _ - or space.
function canonicalName(name: string): string {
  const letters = name.replace(/[_\- ]/g, '');
  return letters.slice(0, 1).toUpperCase() + letters.slice(1).toLowerCase();
}

function addSet(into: ClassSet, from: ClassSet): void {
  into.ranges.push(...from.ranges);
  into.props.push(...from.props);
  into.negProps.push(...from.negProps);
}

function cpEscape(cp: number): string {
  return /[0-9A-Za-z]/.test(String.fromCodePoint(cp))
    ? String.fromCodePoint(cp)
    : `\\u{${cp.toString(16)}}`;
}

function classBody(set: ClassSet, withNegProps: boolean): string {
  return (
    set.ranges
      .map(([lo, hi]) => (lo === hi ? cpEscape(lo) : `${cpEscape(lo)}-${cpEscape(hi)}`))
      .join('') +
    set.props.map((p) => `\\p{${p}}`).join('') +
    (withNegProps ? set.negProps.map(([p]) => `\\P{${p}}`).join('') : '')
  );
}

function emitClass(set: ClassSet, negated: boolean, fold: boolean): string {
  let js: string;
  const simple = set.negProps.every((group) => group.length === 1);
  if (set.negProps.length === 0 || (simple && !fold)) {
    js = `[${negated ? '^' : ''}${classBody(set, true)}]`;
  } else {
    // Under (?i) Go negates a property after folding it, where JavaScript
    // folds the complement; and a complement of a union has no class syntax.
    // A union of one-character classes keeps Go's meaning.
    const alts = [
      `[${classBody(set, false)}]`,
      ...set.negProps.map((group) => `[^${group.map((p) => `\\p{${p}}`).join('')}]`),
    ];
    js = negated ? `(?!${alts.join('|')})[\\u{0}-\\u{10ffff}]` : `(?:${alts.join('|')})`;
  }
  return fold ? `(?i:${js})` : js;
}

function emit(node: Node): string {
  switch (node.t) {
    case 'lit':
      // A one-character class: V8 folds a bare literal in a (?i:) group less fully than /iu does (U+1E9E).
      return node.fold ? `(?i:[${cpEscape(node.cp)}])` : cpEscape(node.cp);
    case 'class':
      return emitClass(node.set, node.negated, node.fold);
    case 'raw':
      return node.js;
    case 'group':
      return node.capture ? `(${emit(node.body)})` : `(?:${emit(node.body)})`;
    case 'alt':
      return node.alts.map(emit).join('|');
    case 'cat':
      return node.items.map((n) => (n.t === 'alt' ? `(?:${emit(n)})` : emit(n))).join('');
    case 'rep': {
      const body = node.body;
      const atom =
        body.t === 'group' || body.t === 'class' || body.t === 'lit'
          ? emit(body)
          : `(?:${emit(body)})`;
      const { min, max } = node;
      const q =
        min === 0 && max === -1
          ? '*'
          : min === 1 && max === -1
            ? '+'
            : min === 0 && max === 1
              ? '?'
              : max === -1
                ? `{${min},}`
                : min === max
                  ? `{${min}}`
                  : `{${min},${max}}`;
      return atom + q + (node.greedy ? '' : '?');
    }
  }
}

export interface GoRegexp {
  readonly regexp: RegExp;
  /** Capture group names by index (index 0 is the whole match). */
  readonly names: readonly (string | undefined)[];
}

/** Compiles a Go (RE2) pattern; undefined where Go's regexp.Compile fails. */
export function compileGoRegexp(pattern: string): GoRegexp | undefined {
  try {
    const parser = new Parser(pattern);
    const tree = parser.parse();
    return { regexp: new RegExp(emit(tree), 'gu'), names: parser.names };
  } catch (err) {
    if (err instanceof SyntaxErr || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

const CACHE_LIMIT = 256;
const cache = new Map<string, GoRegexp | undefined>();

function cachedRegexp(pattern: string): GoRegexp | undefined {
  if (cache.has(pattern)) return cache.get(pattern);
  const compiled = compileGoRegexp(pattern);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/** OPA's regex.replace(s, pattern, value); undefined where OPA's builtin errors. */
export function regexReplace(s: string, pattern: string, template: string): string | undefined {
  const compiled = cachedRegexp(pattern);
  if (compiled === undefined) return undefined;
  return replaceAll(compiled, s, template);
}

// Go's Regexp.replaceAll: successive non-overlapping matches; an empty match
// right after the previous match is not replaced.
function replaceAll({ regexp, names }: GoRegexp, src: string, template: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    regexp.lastIndex = searchPos;
    const m = regexp.exec(src);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(template, m, names);
    lastMatchEnd = end;
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

// Go's Regexp.expand: $$ is "$"; $name or ${name} is the named or numbered
// group (the longest run of letters, digits and _: "$1x" is group "1x");
// an unknown or unmatched group is empty; a malformed reference stays "$".
function expand(
  template: string,
  m: RegExpExecArray,
  names: readonly (string | undefined)[],
): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extractName(rest);
    if (ref === undefined) {
      out += '$';
      continue;
    }
    rest = ref.rest;
    if (ref.num >= 0) {
      if (ref.num < m.length) out += m[ref.num] ?? '';
    } else {
      // Go allows duplicate names: the first group of that name that matched.
      const index = names.findIndex((n, i) => n === ref.name && m[i] !== undefined);
      if (index >= 0) out += m[index] ?? '';
    }
  }
  return out + rest;
}

function extractName(str: string): { name: string; num: number; rest: string } | undefined {
  let s = str;
  const brace = s.startsWith('{');
  if (brace) s = s.slice(1);
  let i = 0;
  for (const ch of s) {
    if (!NAME_CHAR.test(ch)) break;
    i += ch.length;
  }
  if (i === 0) return undefined;
  const name = s.slice(0, i);
  if (brace) {
    if (s[i] !== '}') return undefined;
    i++;
  }
  let num = 0;
  for (const ch of name) {
    if (ch < '0' || ch > '9' || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + Number(ch);
  }
  if (name.startsWith('0') && name.length > 1) num = -1;
  return { name, num, rest: s.slice(i) };
}
