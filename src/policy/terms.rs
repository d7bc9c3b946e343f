//! Term lists (`allowlist/terms/<category>.txt`) and the query matcher.
//!
//! Entry syntax, one per line, `#` starts a comment:
//! - `word`      the whole word (and its plural with -s/-es);
//! - `word*`     words starting with it; `*word` words ending with it; `*word*` anywhere inside a
//!   word, so glued words (`freeporn`) are caught;
//! - `two words` a phrase: consecutive whole words.
//!
//! - `a, b + c, d` an intent rule: a word (or phrase, or `word*`…) from the first set together
//!   with one from the second anywhere in the same query, in either order ("hurt, stab +
//!   someone, my brother"). `@name = a, b, c` names a set once for every file; `@name` then
//!   stands for it in a rule (`@fight + @media`). Rules decide only pupils' queries, never the
//!   titles and snippets of results, whose longer texts hold such pairs innocently.
//!
//! `exceptions.txt` lists words and phrases that are never blocked: the words an exception covers
//! are not checked against any list (Scunthorpe, great tit, Dick Whittington).

use std::collections::HashMap;

use super::exceptions::ExceptionSet;
use super::letter_filter::{push_without_repeats, without_repeats, LetterFilter};
use super::normalise::{fold, fold_native, has_held_letter, has_native_word, is_stretch, normalise, normalise_native, runs, words_of_folded, Normalised};
use super::segment::Segmenter;
use crate::config::ConfigProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    Whole,
    Prefix,
    Suffix,
    Anywhere,
}

#[derive(Debug, Clone)]
struct Entry {
    /// Normalised words; more than one means a phrase (always whole words).
    words: Vec<String>,
    /// The first word as letter runs, for stretched spellings.
    runs: Vec<(char, usize)>,
    /// The first word's letters without repeats: a cheap filter before any closer look.
    letters: String,
    shape: Shape,
    category: usize,
}

/// Where an entry came from, for `check`.
#[derive(Debug, Clone)]
struct Origin {
    file: String,
    line: usize,
}

/// All term lists and exceptions, compiled.
#[derive(Debug, Default)]
pub struct TermLists {
    categories: Vec<String>,
    entries: Vec<Entry>,
    /// Whole single words: exact form → entry index.
    whole: HashMap<String, usize>,
    /// Whole single words by their letters without repeats, to find stretched spellings
    /// (`pooorn`) quickly; a hit is then confirmed with `is_stretch`.
    whole_by_letters: HashMap<String, Vec<usize>>,
    /// Prefix/suffix/anywhere entries and phrases.
    scanned: Vec<usize>,
    /// Finds which `scanned` entries' letters occur in a word, in one pass over the word.
    scanned_finder: Option<aho_corasick::AhoCorasick>,
    /// Tells most innocent texts from ones worth the matcher's closer look (see `check`).
    filter: LetterFilter,
    exceptions: Vec<Vec<String>>,
    /// Exceptions by their first word, so covering a text costs a lookup per word.
    exceptions_by_first: HashMap<String, Vec<usize>>,
    /// Intent rules: two sets of alternatives that must both occur in a query.
    rules: Vec<Rule>,
    /// Whole single words of rules' sets: word → (rule, side) pairs it satisfies.
    rule_words: HashMap<String, Vec<(usize, usize)>>,
    /// Those words by their letters without repeats, to find stretched spellings ("gaaay
    /// joookeees") as `whole_by_letters` does for entries.
    rule_words_by_letters: HashMap<String, Vec<String>>,
    /// The other alternatives (phrases, `word*`…): (rule, side, alternative).
    rule_scanned: Vec<(usize, usize, Alternative)>,
    /// Whether any entry or rule is written in a non-Latin script (else `fold` alone decides).
    has_native: bool,
    /// Reads a glued query as words: the child vocabulary, the lists' and exceptions' words.
    segmenter: Segmenter,
}

/// One word or phrase of a rule's set, normalised like an entry.
#[derive(Debug, Clone)]
struct Alternative {
    words: Vec<String>,
    shape: Shape,
}

#[derive(Debug, Clone)]
struct Rule {
    category: usize,
}

/// One list file's text.
pub struct ListFile<'a> {
    /// Category name (the file stem), "exceptions", or "vocabulary" (`vocabulary/words.txt`:
    /// known words a glued query may be read as, never refused for being listed there).
    pub category: &'a str,
    pub file: String,
    pub text: &'a str,
}

/// Problems that stop the server (errors) and those `check` reports but the server survives
/// (warnings: duplicates, entries an exception overrides).
#[derive(Debug, Default)]
pub struct ListReport {
    pub errors: Vec<ConfigProblem>,
    pub warnings: Vec<ConfigProblem>,
}

/// Lines of a list file without comments and blanks: (1-based line, entry text).
pub fn entries_of(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let entry = line.split('#').next().unwrap_or("").trim();
        (!entry.is_empty()).then_some((i + 1, entry))
    })
}

impl TermLists {
    pub fn build(files: &[ListFile<'_>], report: &mut ListReport) -> TermLists {
        let mut lists = TermLists::default();
        let mut seen: HashMap<(Vec<String>, Shape), Origin> = HashMap::new();
        let mut exception_origins: Vec<Origin> = Vec::new();

        for f in files.iter().filter(|f| f.category == "exceptions") {
            for (line, raw) in entries_of(f.text) {
                let words = entry_words(raw);
                if words.is_empty() || raw.contains('*') {
                    report.errors.push(ConfigProblem {
                        file: f.file.clone(),
                        line: Some(line),
                        what: format!("exception {raw:?} can never match"),
                        fix: "write the word or phrase as a pupil would type it, without *".into(),
                    });
                    continue;
                }
                // "king-smith" is typed both joined and split: keep both spellings.
                let split: Vec<String> = if has_native_word(raw) { normalise_native(raw) } else { normalise(raw) }.split;
                if split != words && !split.is_empty() {
                    lists.exceptions.push(split);
                    exception_origins.push(Origin { file: f.file.clone(), line });
                }
                lists.exceptions.push(words);
                exception_origins.push(Origin { file: f.file.clone(), line });
            }
        }

        for (i, e) in lists.exceptions.iter().enumerate() {
            lists.exceptions_by_first.entry(e[0].clone()).or_default().push(i);
        }

        // Named sets, from every file, before any rule uses them.
        let mut sets: HashMap<String, (Vec<Alternative>, Origin)> = HashMap::new();
        for f in files.iter().filter(|f| !is_word_list(f.category)) {
            for (line, raw) in entries_of(f.text).filter(|(_, raw)| raw.starts_with('@') && raw.contains('=')) {
                let problem = |what: String, fix: &str| ConfigProblem { file: f.file.clone(), line: Some(line), what, fix: fix.to_string() };
                let (name, items) = raw.split_once('=').unwrap_or((raw, ""));
                let name = name.trim().to_lowercase();
                if name.len() < 2 || !name[1..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                    report.errors.push(problem(format!("{raw:?}: a set's name is @ and letters"), "write it like @media = video, videos, pictures"));
                    continue;
                }
                if let Some((_, first)) = sets.get(&name) {
                    report.errors.push(problem(format!("the set {name} is already named at {}:{}", first.file, first.line), "give one of them another name"));
                    continue;
                }
                match alternatives(items, &HashMap::new()) {
                    Ok(alts) if !alts.is_empty() => {
                        for (alt, x) in alts.iter().filter_map(|a| allowed_by_exception(&a.words, &lists.exceptions).map(|x| (a, x))) {
                            report.warnings.push(exception_clash(problem(String::new(), ""), &alt.words, &exception_origins[x], &format!("the set {name}")));
                        }
                        sets.insert(name, (alts, Origin { file: f.file.clone(), line }));
                    }
                    Ok(_) => report.errors.push(problem(format!("the set {name} is empty"), "list its words after =, separated by commas")),
                    Err(what) => report.errors.push(problem(what, "list words or phrases separated by commas (word*, *word allowed; no @ inside a set)")),
                }
            }
        }
        let set_items: HashMap<String, Vec<Alternative>> = sets.into_iter().map(|(k, (v, _))| (k, v)).collect();

        for f in files.iter().filter(|f| !is_word_list(f.category)) {
            // A category may come in several files (one per language or source).
            let category = lists.categories.iter().position(|c| c == f.category).unwrap_or_else(|| {
                lists.categories.push(f.category.to_string());
                lists.categories.len() - 1
            });
            for (line, raw) in entries_of(f.text) {
                let problem = |what: String, fix: &str| ConfigProblem { file: f.file.clone(), line: Some(line), what, fix: fix.to_string() };
                if raw.starts_with('@') && raw.contains('=') {
                    continue;
                }
                if raw.contains('+') {
                    let sides: Vec<&str> = raw.split('+').collect();
                    if sides.len() != 2 {
                        report
                            .errors
                            .push(problem(format!("{raw:?}: a rule has two sets, one on each side of +"), "write it like hurt, stab + someone, my brother"));
                        continue;
                    }
                    let parsed: Result<Vec<Vec<Alternative>>, String> = sides.iter().map(|side| alternatives(side, &set_items)).collect();
                    // Words written in the rule itself (a set's are checked where it is named).
                    let own: Vec<&str> = sides.iter().flat_map(|side| side.split(',')).map(str::trim).filter(|i| !i.starts_with('@')).collect();
                    for alt in alternatives(&own.join(","), &HashMap::new()).unwrap_or_default() {
                        if let Some(x) = allowed_by_exception(&alt.words, &lists.exceptions) {
                            report.warnings.push(exception_clash(problem(String::new(), ""), &alt.words, &exception_origins[x], "this rule"));
                        }
                    }
                    match parsed {
                        Ok(sides) if sides.iter().all(|s| !s.is_empty()) => {
                            let rule = lists.rules.len();
                            lists.rules.push(Rule { category });
                            for (side, alts) in sides.into_iter().enumerate() {
                                for alt in alts {
                                    if alt.words.len() == 1 && alt.shape == Shape::Whole {
                                        lists.rule_words.entry(alt.words[0].clone()).or_default().push((rule, side));
                                    } else {
                                        lists.rule_scanned.push((rule, side, alt));
                                    }
                                }
                            }
                        }
                        Ok(_) => report.errors.push(problem(format!("{raw:?}: one side of + is empty"), "list words on both sides of +")),
                        Err(what) => report.errors.push(problem(what, "define the set with @name = a, b, c in any term file, or fix the word")),
                    }
                    continue;
                }
                if raw.contains(',') {
                    report.errors.push(problem(
                        format!("{raw:?}: a comma only separates the words of a rule or a set"),
                        "write one entry per line, or a rule: a, b + c, d",
                    ));
                    continue;
                }
                let Some((core, shape)) = parse_shape(raw) else {
                    report.errors.push(problem(format!("{raw:?}: * may only stand at the start or end of one word"), "write word, word*, *word or *word*"));
                    continue;
                };
                let words = entry_words(core);
                if words.is_empty() {
                    report.errors.push(problem(format!("{raw:?} can never match: nothing is left after normalising it"), "use letters or digits"));
                    continue;
                }
                if words.len() > 1 && shape != Shape::Whole {
                    report.errors.push(problem(format!("{raw:?}: a phrase cannot use *"), "list the phrase without *, or one word with *"));
                    continue;
                }
                let key = (words.clone(), shape);
                if let Some(first) = seen.get(&key) {
                    report.warnings.push(problem(format!("{raw:?} duplicates {}:{}", first.file, first.line), "remove one of them"));
                    continue;
                }
                seen.insert(key, Origin { file: f.file.clone(), line });
                if let Some(i) = lists.exceptions.iter().position(|e| *e == words) {
                    let ex = &exception_origins[i];
                    report.warnings.push(problem(
                        format!("{raw:?} collides with the exception at {}:{}; the exception wins, so this entry never blocks", ex.file, ex.line),
                        "remove the entry or the exception",
                    ));
                }
                let index = lists.entries.len();
                if words.len() == 1 && shape == Shape::Whole {
                    lists.whole.entry(words[0].clone()).or_insert(index);
                    lists.whole_by_letters.entry(without_repeats(&words[0])).or_default().push(index);
                } else {
                    lists.scanned.push(index);
                }
                let entry_runs = runs(&words[0]);
                let letters = without_repeats(&words[0]);
                lists.entries.push(Entry { words, runs: entry_runs, letters, shape, category });
            }
        }
        for word in lists.rule_words.keys() {
            lists.rule_words_by_letters.entry(without_repeats(word)).or_default().push(word.clone());
        }
        lists.has_native = lists.entries.iter().flat_map(|e| &e.words).chain(lists.rule_words.keys()).any(|w| !w.is_ascii())
            || lists.rule_scanned.iter().flat_map(|(_, _, a)| &a.words).any(|w| !w.is_ascii());
        let vocabulary = files.iter().filter(|f| f.category == "vocabulary").flat_map(|f| entries_of(f.text)).flat_map(|(_, w)| w.split_whitespace());
        let vocabulary: Vec<String> = vocabulary.map(|w| normalise(w).joined.concat()).collect();
        // The English lists' own words and the exceptions', of three letters or more: a
        // glued query is read as English, and other languages' short words ("cu", "mea")
        // would read "cuentos", "Benbecula" or "showmeavagina" as the wrong pieces.
        let english = files.iter().filter(|f| f.category != "vocabulary" && is_english(&f.file));
        let listed: Vec<String> = english
            .flat_map(|f| entries_of(f.text))
            .flat_map(|(_, raw)| raw.split(|c: char| c.is_whitespace() || matches!(c, ',' | '+' | '=' | '*')))
            .filter(|w| !w.starts_with('@'))
            .map(|w| normalise(w).joined.concat())
            .filter(|w| w.len() >= 3)
            .collect();
        lists.segmenter = Segmenter::new(vocabulary.iter().chain(&listed).map(String::as_str));
        // The compounds the school's words and the exceptions know ("cocktail", "peacock").
        let compounds = vocabulary.iter().chain(lists.exceptions.iter().filter(|e| e.len() == 1).flatten());
        lists.segmenter.learn_compounds(compounds.map(String::as_str));
        let patterns: Vec<&str> = lists.scanned.iter().map(|&e| lists.entries[e].letters.as_str()).collect();
        lists.scanned_finder = aho_corasick::AhoCorasick::new(patterns).ok();
        lists.filter = LetterFilter::new(lists.entries.iter().map(|e| e.words.as_slice()));
        lists
    }

    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// How many intent rules were loaded.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The category of the first entry the text trips, if any. The letter filter answers for
    /// most innocent texts; the rest are split into words and matched.
    pub fn check(&self, text: &str) -> Option<&str> {
        self.check_with(text, None)
    }

    /// `check`, with the school's local exceptions (`policy::local`) covering words too.
    pub fn check_with(&self, text: &str, local: Option<&ExceptionSet>) -> Option<&str> {
        let folded = fold(text);
        if self.filter.may_match(&folded) {
            if let Some(c) = self.check_normalised(&words_of_folded(&folded), local) {
                return Some(self.categories[c].as_str());
            }
        }
        // Words in another script, once more as typed, for the entries written in it.
        if self.has_native && has_native_word(text) {
            let native = fold_native(text);
            if self.filter.may_match(&native) {
                return self.check_normalised(&words_of_folded(&native), local).map(|c| self.categories[c].as_str());
            }
        }
        None
    }

    /// `check` for a pupil's query: the entries, then the intent rules.
    pub fn check_query(&self, text: &str) -> Option<&str> {
        self.check_query_with(text, None)
    }

    /// `check_query`, with the school's local exceptions covering words too.
    pub fn check_query_with(&self, text: &str, local: Option<&ExceptionSet>) -> Option<&str> {
        if let Some(category) = self.check_with(text, local) {
            return Some(category);
        }
        let mut forms = vec![normalise(text)];
        if self.has_native && has_native_word(text) {
            forms.push(normalise_native(text));
        }
        if !self.rules.is_empty() {
            if let Some(c) = forms.iter().find_map(|n| self.check_rules(&n.streams(), local)) {
                return Some(self.categories[c].as_str());
            }
        }
        // A word with letters masked by `*` ("f*ck", "sh*t"), as the listed word it fits.
        if let Some(c) = self.masked(text) {
            return Some(self.categories[c].as_str());
        }
        // Last, a glued or spaced-out query read as the words it is made of.
        let (words, alone) = self.unglued(&forms[0].collapsed, local)?;
        let streams: [&[String]; 1] = [&words];
        self.check_words(&words, Some(&alone), local).or_else(|| self.check_rules(&streams, local)).map(|c| self.categories[c].as_str())
    }

    /// The category of the first one-word entry that a query's masked word fits: a word of three or
    /// more characters, letters and `*` only (after folding), with at least one of each, where
    /// each `*` stands for one letter ("f*ck", "sh*t", "f***"). Pupils mask a word only to
    /// type a rude one, and `normalise` reads `*` as a gap ("f", "ck"), so without this every
    /// masked spelling passed. Queries only: a `*` in a result's text is a footnote or a star.
    fn masked(&self, text: &str) -> Option<usize> {
        if !text.contains('*') {
            return None;
        }
        for token in text.split_whitespace().filter(|t| t.contains('*')) {
            let token = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '*');
            // Digits and stars alone are sums ("3*4"), not a word.
            if !token.chars().any(char::is_alphabetic) {
                continue;
            }
            let mut pattern: Vec<Option<char>> = Vec::new();
            for c in token.chars() {
                if c == '*' {
                    pattern.push(None);
                } else {
                    pattern.extend(fold(&c.to_string()).chars().map(Some));
                }
            }
            let letters = pattern.iter().flatten().count();
            if pattern.len() < 3 || letters == pattern.len() || !pattern.iter().flatten().all(char::is_ascii_lowercase) {
                continue;
            }
            let fits = |entry: &str| entry.len() == pattern.len() && entry.chars().zip(&pattern).all(|(e, p)| p.is_none_or(|p| p == e));
            // Any one-word entry, read as the whole word ("p*rn" for `*porn*`). Masks hide rude
            // words, so a swear word, then a sexual word, then a slur is the reading taken
            // ("f***" is "fuck", not the scary list's "fnaf"); else the first in the files' order.
            let rank = |c: usize| ["swearing", "sexual", "hate"].iter().position(|n| *n == self.categories[c]).unwrap_or(3);
            let fitting = self.entries.iter().filter(|e| e.words.len() == 1 && fits(&e.words[0]));
            if let Some(entry) = fitting.min_by_key(|e| rank(e.category)) {
                return Some(entry.category);
            }
        }
        None
    }

    /// `words` with each glued run the exceptions do not cover read as the known words it is
    /// made of (`segment`), and for each word whether a one-word entry may decide it alone:
    /// not a piece of a run read as only two words that is half of a known compound, as
    /// "shuttle|cock" would be — unless the other is a glue word (`is_glue_word`); such a
    /// piece decides only in a phrase or a rule. `None` when no run was read.
    fn unglued(&self, words: &[String], local: Option<&ExceptionSet>) -> Option<(Vec<String>, Vec<bool>)> {
        if !words.iter().any(|w| w.len() >= 6) {
            return None;
        }
        let cover = self.exception_cover(words, local);
        let mut out = Vec::with_capacity(words.len() + 4);
        let mut alone = Vec::with_capacity(words.len() + 4);
        let mut read_any = false;
        for (i, word) in words.iter().enumerate() {
            match (!cover.word[i]).then(|| self.segmenter.split(word)).flatten() {
                Some(pieces) => {
                    read_any = true;
                    // Of two pieces, one decides alone when the other is a word glued on as a
                    // label ("freeporn", "nudespics"), or when both are four letters or more and
                    // it is no half of a compound the dictionary knows ("send|nudes"; but not
                    // "shuttle|cock", as "cocktail" is a word).
                    let label = pieces.len() >= 3 || pieces.iter().any(|p| is_glue_word(p));
                    // A piece of three letters or fewer is often an ending ("retard|ant").
                    let long = pieces.iter().all(|p| p.len() >= 4);
                    alone.extend(pieces.iter().map(|p| label || (long && !self.segmenter.is_compound_half(p))));
                    out.extend(pieces);
                }
                None => {
                    out.push(word.clone());
                    alone.push(true);
                }
            }
        }
        read_any.then_some((out, alone))
    }

    /// The first intent rule both of whose sets the words of one stream satisfy (a rule
    /// always needs two words, so an unglued stream's pieces all count).
    fn check_rules(&self, streams: &[&[String]], local: Option<&ExceptionSet>) -> Option<usize> {
        for (k, words) in streams.iter().enumerate() {
            if streams[..k].contains(words) {
                continue;
            }
            let cover = self.exception_cover(words, local);
            // Which side of which rule each word satisfies.
            let mut hits: Vec<(usize, usize)> = Vec::new();
            for (i, word) in words.iter().enumerate() {
                if !cover.word[i] {
                    if let Some(found) = forms(word).find_map(|f| self.rule_words.get(f)).or_else(|| self.stretched_rule_word(word)) {
                        hits.extend(found);
                    }
                }
                for (rule, side, alt) in &self.rule_scanned {
                    let hit = if alt.words.len() == 1 {
                        !cover.word[i] && shape_match(word, &alt.words[0], alt.shape)
                    } else {
                        words.len() >= i + alt.words.len()
                            && alt.words.iter().enumerate().all(|(k, w)| whole_word_match(&words[i + k], w))
                            && !cover.protects(i, alt.words.len())
                    };
                    if hit {
                        hits.push((*rule, *side));
                    }
                }
            }
            hits.sort_unstable();
            hits.dedup();
            if let Some(&(rule, _)) = hits.windows(2).find(|w| w[0].0 == w[1].0).map(|w| &w[0]) {
                return Some(self.rules[rule].category);
            }
        }
        None
    }

    fn check_normalised(&self, n: &Normalised, local: Option<&ExceptionSet>) -> Option<usize> {
        let streams = n.streams();
        // Most texts spell the same in all three streams; the same words give the same answer.
        streams.iter().enumerate().filter(|(k, words)| !streams[..*k].contains(words)).find_map(|(_, words)| self.check_words(words, None, local))
    }

    /// The first entry the words trip. `alone[i] == false` keeps one-word entries from
    /// deciding word `i` by itself (see `unglued`); phrases over it still count.
    fn check_words(&self, words: &[String], alone: Option<&[bool]>, local: Option<&ExceptionSet>) -> Option<usize> {
        let cover = self.exception_cover(words, local);
        let mut word_letters = String::new();
        let mut candidates: Vec<usize> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let lone = !cover.word[i] && alone.is_none_or(|a| a[i]);
            if lone {
                if let Some(e) = self.whole_match(word) {
                    return Some(self.entries[e].category);
                }
            }
            // Any match, exact or stretched, keeps the entry's letters in order inside the
            // word's letters: one Aho-Corasick pass finds the few entries worth a closer look.
            letters_into(word, &mut word_letters);
            candidates.clear();
            match &self.scanned_finder {
                Some(finder) => candidates.extend(finder.find_overlapping_iter(&word_letters).map(|m| self.scanned[m.pattern().as_usize()])),
                None => candidates.extend_from_slice(&self.scanned),
            }
            candidates.sort_unstable();
            candidates.dedup();
            for &e in &candidates {
                let entry = &self.entries[e];
                let hit = if entry.words.len() == 1 {
                    lone && wildcard_match(word, entry)
                } else {
                    words.len() >= i + entry.words.len()
                        && entry.words.iter().enumerate().all(|(k, w)| whole_word_match(&words[i + k], w))
                        && !cover.protects(i, entry.words.len())
                };
                if hit {
                    return Some(entry.category);
                }
            }
        }
        None
    }

    /// The (rule, side) pairs of the rule word `word` is a stretched spelling of, if any.
    fn stretched_rule_word(&self, word: &str) -> Option<&Vec<(usize, usize)>> {
        if !has_held_letter(word) {
            return None;
        }
        let word_runs = runs(word);
        for form in stretched_forms(&word_runs) {
            let letters: String = form.iter().map(|(c, _)| c).collect();
            if let Some(candidates) = self.rule_words_by_letters.get(&letters) {
                if let Some(found) = candidates.iter().find(|w| same_or_stretch(form, &runs(w))) {
                    return self.rule_words.get(found);
                }
            }
        }
        None
    }

    fn whole_match(&self, word: &str) -> Option<usize> {
        if let Some(&e) = forms(word).find_map(|form| self.whole.get(form)) {
            return Some(e);
        }
        // Every stretched spelling holds a letter (see `has_held_letter`).
        if !has_held_letter(word) {
            return None;
        }
        let word_runs = runs(word);
        for form in stretched_forms(&word_runs) {
            let letters: String = form.iter().map(|(c, _)| c).collect();
            if let Some(candidates) = self.whole_by_letters.get(&letters) {
                if let Some(&e) = candidates.iter().find(|&&e| same_or_stretch(form, &self.entries[e].runs)) {
                    return Some(e);
                }
            }
        }
        None
    }

    /// The words an exception word or phrase covers, and the spans it covers them in.
    fn exception_cover(&self, words: &[String], local: Option<&ExceptionSet>) -> Cover {
        // Exceptions match exactly (or as a plural), never stretched: "boooobies" must not pass
        // as an exception's spelling of something innocent.
        let mut spans = Vec::new();
        for start in 0..words.len() {
            for first in forms(&words[start]) {
                let Some(candidates) = self.exceptions_by_first.get(first) else { continue };
                for &x in candidates {
                    let exception = &self.exceptions[x];
                    let end = start + exception.len();
                    if end <= words.len() && exception.iter().zip(&words[start..end]).all(|(e, w)| forms(w).any(|f| f == e)) {
                        spans.push((start, end));
                    }
                }
            }
        }
        if let Some(local) = local {
            local.cover(words, &mut spans, |w| forms(w).collect());
        }
        let mut word = vec![false; words.len()];
        for &(start, end) in &spans {
            word[start..end].iter_mut().for_each(|c| *c = true);
        }
        Cover { word, spans }
    }
}

/// The words of one stream that exceptions cover, and the spans (start, end) they cover.
struct Cover {
    word: Vec<bool>,
    spans: Vec<(usize, usize)>,
}

impl Cover {
    /// Whether an exception keeps the phrase at `words[start..start + len]` from matching. An
    /// exception protects the ordinary word, not a harmful phrase built on it: one lying
    /// wholly inside the phrase ("mass" in "mass shooting") does not stop it, while one that
    /// is the phrase, holds it, or reaches past it ("great tit" in "great tit pics", read as
    /// the bird) does.
    fn protects(&self, start: usize, len: usize) -> bool {
        let end = start + len;
        self.word[start..end].contains(&true) && self.spans.iter().any(|&(a, b)| a < end && start < b && !(start <= a && b <= end && b - a < len))
    }
}

/// The exception that is the same words as `words` (an entry or a rule's alternative), so
/// lets it through wherever it is typed. An exception holding a listed word or phrase is what
/// exceptions are for ("great tit", "dumb ways to die"); one inside a phrase ("mass" in "mass
/// shooting") does not stop it (`Cover::protects`).
fn allowed_by_exception(words: &[String], exceptions: &[Vec<String>]) -> Option<usize> {
    exceptions.iter().position(|e| e == words)
}

/// `check`'s warning for a rule's alternative an exception lets through (`at` is where the
/// warning's file and line already point).
fn exception_clash(at: ConfigProblem, words: &[String], exception: &Origin, owner: &str) -> ConfigProblem {
    ConfigProblem {
        what: format!("{:?} in {owner} is allowed by the exception at {}:{}, so it never counts there", words.join(" "), exception.file, exception.line),
        fix: "take it out of the rule or set, or narrow or remove the exception".into(),
        ..at
    }
}

/// Words glued onto a search as a label — before it ("freeporn", "bignudes") or after it
/// ("nudespics") — and not the halves of an ordinary compound word. Kept short on purpose:
/// each one lets a two-piece reading decide alone.
fn is_glue_word(piece: &str) -> bool {
    matches!(
        piece,
        "free"
            | "hot"
            | "big"
            | "real"
            | "best"
            | "cheap"
            | "sexy"
            | "watch"
            | "my"
            | "your"
            | "pics"
            | "pic"
            | "pictures"
            | "photos"
            | "videos"
            | "video"
            | "vids"
            | "online"
            | "games"
            | "game"
    )
}

/// A list file in English: `drugs.txt`, `sexual.en.txt`, `exceptions.txt` — not `sexual.pl.txt`
/// or `drugs.multi.txt`.
fn is_english(file: &str) -> bool {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file).trim_end_matches('>');
    let parts: Vec<&str> = name.split('.').collect();
    matches!(parts.as_slice(), [_, "txt"] | [_, "en", "txt"])
}

/// The exceptions and the vocabulary are lists of words, not a category.
fn is_word_list(category: &str) -> bool {
    matches!(category, "exceptions" | "vocabulary")
}

/// An exception phrase as `build` keeps it: its words normalised, and (when it differs) split
/// as "king-smith" is typed both joined and split. Also for the local exceptions.
pub(super) fn exception_phrases(raw: &str) -> Vec<Vec<String>> {
    let words = entry_words(raw);
    if words.is_empty() {
        return Vec::new();
    }
    let split: Vec<String> = if has_native_word(raw) { normalise_native(raw) } else { normalise(raw) }.split;
    let mut out = Vec::new();
    if split != words && !split.is_empty() {
        out.push(split);
    }
    out.push(words);
    out
}

/// An entry's words, each normalised as a query word would be (a word in a non-Latin script
/// as `fold_native` keeps it, so it matches as typed and never as Latin look-alikes).
fn entry_words(entry: &str) -> Vec<String> {
    entry.split_whitespace().map(|w| if has_native_word(w) { normalise_native(w) } else { normalise(w) }.joined.concat()).filter(|w| !w.is_empty()).collect()
}

/// A rule's side or a set: comma-separated words and phrases, `word*` shapes, `@name` sets.
fn alternatives(text: &str, sets: &HashMap<String, Vec<Alternative>>) -> Result<Vec<Alternative>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if item.starts_with('@') {
            match sets.get(&item.to_lowercase()) {
                Some(alts) => out.extend(alts.iter().cloned()),
                None if sets.is_empty() => return Err(format!("{item:?}: a set cannot use another set")),
                None => return Err(format!("{item:?} is not a set defined in any term file")),
            }
            continue;
        }
        let Some((core, shape)) = parse_shape(item) else { return Err(format!("{item:?}: * may only stand at the start or end of one word")) };
        let words = entry_words(core);
        if words.is_empty() {
            return Err(format!("{item:?} can never match: nothing is left after normalising it"));
        }
        if words.len() > 1 && shape != Shape::Whole {
            return Err(format!("{item:?}: a phrase cannot use *"));
        }
        out.push(Alternative { words, shape });
    }
    Ok(out)
}

/// A word against one normalised word of a rule, in its shape (plurals and stretches as entries).
fn shape_match(word: &str, e: &str, shape: Shape) -> bool {
    match shape {
        Shape::Whole => whole_word_match(word, e),
        Shape::Prefix => word.starts_with(e),
        Shape::Suffix => forms(word).any(|f| f.ends_with(e)),
        Shape::Anywhere => word.contains(e),
    }
}

fn parse_shape(raw: &str) -> Option<(&str, Shape)> {
    let starts = raw.starts_with('*');
    let ends = raw.ends_with('*') && raw.len() > 1;
    let core = raw.trim_start_matches('*').trim_end_matches('*');
    if core.contains('*') || core.is_empty() {
        return None;
    }
    let shape = match (starts, ends) {
        (false, false) => Shape::Whole,
        (false, true) => Shape::Prefix,
        (true, false) => Shape::Suffix,
        (true, true) => Shape::Anywhere,
    };
    Some((core, shape))
}

/// A word's letters with repeats removed (`pooorn` → `porn`, the index key for stretches),
/// into a reused buffer.
fn letters_into(word: &str, out: &mut String) {
    out.clear();
    push_without_repeats(word, out);
}

/// The singular forms a plural word may have: `-s`, and `-es` after s, x, z, ch, sh (so
/// "spices" is not read as "spic" + "es", nor "heroines" as "heroin" + "es").
fn singulars(word: &str) -> impl Iterator<Item = &str> {
    let s = word.strip_suffix('s').filter(|stem| stem.len() > 1);
    let es = word.strip_suffix("es").filter(|stem| ["s", "x", "z", "ch", "sh"].iter().any(|end| stem.ends_with(end)));
    s.into_iter().chain(es)
}

/// A word and the singulars it may be the plural of.
fn forms(word: &str) -> impl Iterator<Item = &str> {
    std::iter::once(word).chain(singulars(word))
}

/// A word (as letter runs) and the singulars it may be the plural of, with any letter held
/// down, the plural's own included (`pakisss`, `boxeees`).
fn stretched_forms(word: &[(char, usize)]) -> impl Iterator<Item = &[(char, usize)]> {
    let n = word.len();
    let s = (n >= 2 && word[n - 1].0 == 's').then(|| &word[..n - 1]);
    let es = (n >= 3 && word[n - 1].0 == 's' && word[n - 2].0 == 'e')
        .then(|| &word[..n - 2])
        .filter(|stem| matches!(stem[stem.len() - 1].0, 's' | 'x' | 'z') || (stem.len() >= 2 && matches!(stem[stem.len() - 2..], [('c' | 's', _), ('h', _)])));
    std::iter::once(word).chain(s).chain(es)
}

/// The same letters held as long, or a stretched spelling.
fn same_or_stretch(form: &[(char, usize)], entry: &[(char, usize)]) -> bool {
    form == entry || is_stretch(form, entry, true, true)
}

/// A word equals the entry, one of its plurals, or a stretched spelling of it.
fn whole_word_match(word: &str, entry: &str) -> bool {
    if forms(word).any(|form| form == entry) {
        return true;
    }
    if !has_held_letter(word) {
        return false;
    }
    let (word_runs, entry_runs) = (runs(word), runs(entry));
    let matched = stretched_forms(&word_runs).any(|form| same_or_stretch(form, &entry_runs));
    matched
}

/// Prefix / suffix / anywhere matching, exactly or as a stretched spelling. A suffix entry
/// also matches the word's plural (`*phobe`: "homophobes"), as a whole-word entry does; a
/// prefix or anywhere entry needs no such help.
fn wildcard_match(word: &str, entry: &Entry) -> bool {
    let e = entry.words[0].as_str();
    let (at_start, at_end, exact) = match entry.shape {
        Shape::Prefix => (true, false, word.starts_with(e)),
        Shape::Suffix => (false, true, forms(word).any(|form| form.ends_with(e))),
        Shape::Anywhere => (false, false, word.contains(e)),
        Shape::Whole => (true, true, word == e),
    };
    if exact || !has_held_letter(word) {
        return exact;
    }
    let word_runs = runs(word);
    if entry.shape == Shape::Suffix {
        return stretched_forms(&word_runs).any(|form| is_stretch(form, &entry.runs, at_start, at_end));
    }
    is_stretch(&word_runs, &entry.runs, at_start, at_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(terms: &str, exceptions: &str) -> TermLists {
        let mut report = ListReport::default();
        let lists = TermLists::build(
            &[
                ListFile { category: "exceptions", file: "exceptions.txt".into(), text: exceptions },
                ListFile { category: "sexual", file: "sexual.txt".into(), text: terms },
            ],
            &mut report,
        );
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        lists
    }

    #[test]
    fn whole_words_do_not_match_inside_other_words() {
        let l = lists("tit\ncock\nsex*\n*porn*\n", "great tit\nsextant\n");
        assert_eq!(l.check("tits"), Some("sexual"));
        assert_eq!(l.check("Titanic"), None);
        assert_eq!(l.check("cocktail sausages"), None);
        assert_eq!(l.check("great tit nest"), None);
        assert_eq!(l.check("sexy"), Some("sexual"));
        assert_eq!(l.check("sextant"), None);
        assert_eq!(l.check("freeporn"), Some("sexual"));
        assert_eq!(l.check("f r e e p o r n"), Some("sexual"));
        assert_eq!(l.check("pooorn"), Some("sexual"));
    }

    #[test]
    fn a_suffix_entry_matches_its_plurals_too() {
        let l = lists("*phobe\n*bitch\n", "");
        assert_eq!(l.check("homophobe"), Some("sexual"));
        assert_eq!(l.check("homophobes"), Some("sexual"));
        assert_eq!(l.check("homophoooobes"), Some("sexual"), "stretched and plural");
        assert_eq!(l.check("sonofabitches"), Some("sexual"), "-es after ch");
        assert_eq!(l.check("phobes"), Some("sexual"));
        assert_eq!(l.check("phobia"), None);
        assert_eq!(l.check("homophobesque"), None, "still a suffix: the word must end there");
    }

    #[test]
    fn phrases_match_consecutive_words() {
        let l = lists("kill myself\n", "");
        assert_eq!(l.check("how to kill myself"), Some("sexual"));
        assert_eq!(l.check("kill-myself"), Some("sexual"));
        assert_eq!(l.check("myself kill"), None);
    }

    #[test]
    fn stretching_is_not_a_way_in_and_not_a_false_alarm() {
        let l = lists("ass\n", "");
        assert_eq!(l.check("asss"), Some("sexual"));
        assert_eq!(l.check("as"), None);
        assert_eq!(l.check("class"), None);
        assert_eq!(l.check("asses"), Some("sexual"));
        assert_eq!(l.check("asssss"), Some("sexual"));
        assert_eq!(l.check("assess"), None);
        assert_eq!(l.check("grass"), None);
    }

    #[test]
    fn an_exception_inside_a_listed_phrase_does_not_allow_the_phrase() {
        let l = lists("mass shooting\ntit pics\n", "mass\ngreat tit\n");
        assert_eq!(l.check("mass shooting video"), Some("sexual"), "\"mass\" protects the word, not the phrase");
        assert_eq!(l.check("mass of the earth"), None);
        assert_eq!(l.check("tit pics"), Some("sexual"));
        assert_eq!(l.check("great tit pics"), None, "an exception reaching past the phrase reads the word its own way");
    }

    #[test]
    fn an_exception_inside_a_rules_phrase_does_not_allow_it() {
        let l = lists("@a = mass shooting, gore\n@b = video, videos\n@a + @b\n", "mass\n");
        assert_eq!(l.check_query("mass shooting video"), Some("sexual"));
        assert_eq!(l.check_query("mass of a video camera"), None);
    }

    #[test]
    fn a_rules_words_match_stretched_as_entries_do() {
        let l = lists("@group = gay people, gay\n@insult = joke, jokes\n@group + @insult\nhow to + hurt\n", "");
        assert_eq!(l.check_query("gay jokes"), Some("sexual"));
        assert_eq!(l.check_query("gaaay joookeees"), Some("sexual"), "both words stretched");
        assert_eq!(l.check_query("hooow tooo huuurt"), Some("sexual"), "a phrase and a word stretched");
        assert_eq!(l.check_query("gaaay"), None, "one side alone is no rule");
        assert_eq!(l.check_query("gy jks"), None, "fewer letters is not a stretch");
    }

    #[test]
    fn a_word_masked_with_stars_is_read_as_the_listed_word_it_fits() {
        let l = lists("fuck\nshit\n*porn*\n", "");
        assert_eq!(l.check_query("f*ck"), Some("sexual"));
        assert_eq!(l.check_query("F*** off"), Some("sexual"), "every letter but the first masked");
        assert_eq!(l.check_query("what the sh*t"), Some("sexual"));
        assert_eq!(l.check_query("p0*n videos"), Some("sexual"), "a digit read as its letter");
        assert_eq!(l.check_query("f*sh and chips"), None, "the letters shown must fit");
        assert_eq!(l.check_query("5* hotels"), None);
        assert_eq!(l.check_query("3*4 = 12"), None);
        assert_eq!(l.check_query("****"), None, "no letter shown: nothing to fit");
        assert_eq!(l.check_query("s*x* ab*"), None, "fits no listed word");
        assert_eq!(l.check("f*ck"), None, "results' texts are not read this way");
    }

    #[test]
    fn check_flags_an_exception_that_lets_a_listed_phrase_or_a_rules_word_through() {
        let mut report = ListReport::default();
        TermLists::build(
            &[
                ListFile { category: "exceptions", file: "exceptions.txt".into(), text: "mass shooting\ngore\n" },
                ListFile { category: "violence", file: "violence.txt".into(), text: "mass shooting\n@media = video, gore\nstab + video\ngore + blood\n" },
            ],
            &mut report,
        );
        let text: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
        assert!(text.iter().any(|t| t.starts_with("violence.txt:1:") && t.contains("collides with the exception at exceptions.txt:1")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("violence.txt:2:") && t.contains("the set @media") && t.contains("exceptions.txt:2")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("violence.txt:4:") && t.contains("this rule") && t.contains("exceptions.txt:2")), "{text:?}");
        assert!(!text.iter().any(|t| t.starts_with("violence.txt:3:")), "{text:?}");
    }

    #[test]
    fn a_glued_or_spaced_query_is_read_as_its_words() {
        let mut report = ListReport::default();
        let l = TermLists::build(
            &[
                ListFile { category: "exceptions", file: "exceptions.txt".into(), text: "cocktail\npenistone\n" },
                ListFile { category: "vocabulary", file: "words.txt".into(), text: "how\nto\nmake\nonline\nfree\npen\nis\ntone\ntail\nsausages\n" },
                ListFile { category: "violence", file: "violence.txt".into(), text: "make a bomb\nbuy + drugs\ncock\npenis\n" },
            ],
            &mut report,
        );
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(l.check_query("howtomakeabomb"), Some("violence"));
        assert_eq!(l.check_query("h o w  t o  m a k e  a  b o m b"), Some("violence"));
        assert_eq!(l.check_query("buydrugsonline"), Some("violence"));
        assert_eq!(l.check_query("freecockpictures"), None, "\"pictures\" is not a known word: the run is not read");
        assert_eq!(l.check_query("tohowcock"), Some("violence"), "three pieces: a listed word decides");
        assert_eq!(l.check_query("tailcock"), None, "two pieces: only a phrase or a rule decides");
        assert_eq!(l.check_query("cocktail sausages"), None);
        assert_eq!(l.check_query("penistone"), None, "an exception is never split");
        assert_eq!(l.check_query("howtomakeacake"), None);
    }

    /// What `check` answers without the letter filter in front.
    fn check_unfiltered<'a>(lists: &'a TermLists, text: &str) -> Option<&'a str> {
        let native = (lists.has_native && has_native_word(text)).then(|| normalise_native(text));
        std::iter::once(normalise(text)).chain(native).find_map(|n| lists.check_normalised(&n, None)).map(|c| lists.categories[c].as_str())
    }

    /// Spellings pupils (and pages) use: each turns an entry's word into something the full
    /// matcher may still catch, so the filter in front of it is tested where it matters.
    fn disguise(word: &str, trick: u8, at: usize) -> String {
        let chars: Vec<char> = word.chars().collect();
        let at = at % chars.len().max(1);
        let leet = |c: char| match c {
            'a' => '@',
            'e' => '3',
            'i' => '1',
            'o' => '0',
            's' => '$',
            't' => '+',
            other => other,
        };
        match trick % 10 {
            0 => word.to_uppercase(),
            1 => format!("{word}s"),
            2 => format!("{word}es"),
            3 => chars.iter().enumerate().flat_map(|(i, &c)| std::iter::repeat_n(c, if i == at { 4 } else { 1 })).collect(),
            4 => format!("free{word}"),
            5 => format!("{word}ing"),
            6 => chars.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" "),
            7 => chars.iter().enumerate().map(|(i, &c)| if i == at { format!("{c}.") } else { c.to_string() }).collect(),
            8 => chars.iter().map(|&c| leet(c)).collect(),
            _ => chars
                .iter()
                .map(|&c| {
                    if c == 'o' {
                        'о'
                    } else if c == 'a' {
                        'а'
                    } else {
                        c
                    }
                })
                .collect(),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(600))]

        /// The letter filter in front of the matcher never lets through a text the matcher
        /// alone would refuse: entries from the shipped lists, disguised and set among
        /// ordinary words and stray symbols (the shipped exceptions still apply).
        #[test]
        fn the_letter_filter_never_hides_a_match(
            picks in proptest::collection::vec((proptest::prelude::any::<usize>(), 0u8..10, proptest::prelude::any::<usize>()), 1..4),
            filler in proptest::collection::vec("[a-zA-Z!@$|+.,'-]{1,8}", 0..8),
            noise in "\\PC{0,30}",
        ) {
            let lists = shipped();
            let mut words: Vec<String> = filler;
            for (i, (pick, trick, at)) in picks.into_iter().enumerate() {
                let entry = &lists.entries[pick % lists.entries.len()];
                let phrase = entry.words.iter().map(|w| disguise(w, trick, at)).collect::<Vec<_>>().join(" ");
                words.insert((at + i) % (words.len() + 1), phrase);
            }
            words.push(noise);
            let text = words.join(" ");
            proptest::prop_assert_eq!(lists.check(&text), check_unfiltered(lists, &text), "{:?}", text);
        }
    }

    /// Every shipped entry in every disguise, alone: the filter and the matcher alone agree,
    /// and most disguises are still caught (so the agreement is about refusals, not only about
    /// texts nothing matches).
    #[test]
    fn the_letter_filter_agrees_on_every_shipped_entry_in_every_disguise() {
        let lists = shipped();
        let (mut texts, mut refused) = (0, 0);
        for entry in &lists.entries {
            for trick in 0..10 {
                for at in [0, 1, 3] {
                    let text = entry.words.iter().map(|w| disguise(w, trick, at)).collect::<Vec<_>>().join(" ");
                    let answer = lists.check(&text);
                    assert_eq!(answer, check_unfiltered(lists, &text), "{text:?}");
                    // The ratio is about Latin-script entries: leet and look-alike tricks
                    // do not apply to words in other scripts.
                    if entry.words.iter().all(|w| w.is_ascii()) {
                        texts += 1;
                        refused += usize::from(answer.is_some());
                    }
                }
            }
        }
        // 6 in 10, not 7 since issue 22: the imported whole-word entries are, by design, not
        // found glued to other words ("freeX") or with -ing, two of the ten tricks.
        assert!(refused * 10 > texts * 6, "only {refused} of {texts} disguised entries refused");
    }

    /// The shipped term lists and exceptions, loaded as the server loads them.
    fn shipped() -> &'static TermLists {
        static POLICY: std::sync::LazyLock<crate::policy::Policy> = std::sync::LazyLock::new(|| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("allowlist");
            crate::policy::load::load_policy(&dir, false).expect("the shipped lists load").0
        });
        assert!(POLICY.terms.len() > 100, "the shipped term lists");
        &POLICY.terms
    }

    #[test]
    fn the_letter_filter_lets_ordinary_results_through_unsplit() {
        let lists = shipped();
        let ordinary = "Volcanoes - National Geographic Kids: a volcano is an opening in the Earth's crust where lava flows out";
        assert!(!lists.filter.may_match(&fold(ordinary)), "{ordinary}");
        assert_eq!(lists.check("How to make meth at home"), Some("drugs"));
        assert!(lists.filter.may_match(&fold("a method for sums")), "a filter, not the matcher: 'meth' is inside 'method'");
        assert_eq!(lists.check("a method for sums"), None);
    }

    #[test]
    fn check_reports_duplicates_collisions_and_bad_entries() {
        let mut report = ListReport::default();
        TermLists::build(
            &[
                ListFile { category: "exceptions", file: "exceptions.txt".into(), text: "grass\n" },
                ListFile { category: "drugs", file: "drugs.txt".into(), text: "weed\n# c\nweed\ngrass\np*t\n---\n" },
            ],
            &mut report,
        );
        let text: Vec<String> = report.errors.iter().chain(&report.warnings).map(ToString::to_string).collect();
        assert!(text.iter().any(|t| t.starts_with("drugs.txt:3:") && t.contains("duplicates drugs.txt:1")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("drugs.txt:4:") && t.contains("collides with the exception at exceptions.txt:1")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("drugs.txt:5:")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("drugs.txt:6:") && t.contains("never match")), "{text:?}");
    }
}
