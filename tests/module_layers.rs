//! Imports point down: no two modules of `src/` import each other, directly or round a longer
//! loop (issue 25).
//!
//! The check reads every `src/**/*.rs` file (comments and string literals blanked) and collects
//! each reference to another module of the crate: `use` lines, grouped ones included
//! (`use crate::{a, b::c}`), fully qualified paths in code (`crate::store::now_ms()`, also inside
//! maud templates), `super::` and `self::` paths, and paths through a module a `use` line named
//! (`use super::alerts;` … `alerts::alert_item`). A path is followed down the files to the
//! module that holds the name, through the `pub use` re-exports of a `mod.rs`
//! (`crate::store::Db` is `store/db.rs`'s).
//!
//! Granularity: one graph per directory, its nodes that directory's files and subdirectories.
//! An import from `web/staff/alerts.rs` of `crate::search::SearchService` is the edge
//! `web → search` in the graph of `src/`; one from `engines/html.rs` of `super::text` is
//! `html → text` in the graph of `engines/`. So the top-level modules (a directory counting as one module) must form
//! layers, and so must the files inside each directory, at every depth — a loop between two
//! files of one directory tangles that directory as much as a loop between modules tangles the
//! crate. A directory's own `mod.rs` is its front, not one of its nodes: it declares and
//! re-exports its files, and they may use the vocabulary it defines (`super::EngineError`);
//! that is a parent and its parts, not two peers, and the names it re-exports are traced to the
//! file that defines them, so a sibling loop cannot hide behind it.
//!
//! Unit tests (`#[cfg(test)]` items) are left out, as `cargo modules` leaves them out unless
//! asked: they are not part of what is built and shipped, and one may load the whole policy to
//! hold one file's part to the shipped lists (`policy::terms`'s tests load them through
//! `policy::load`) without any shipped code following that step back.
//!
//! A small scanner over the source rather than `cargo modules dependencies --acyclic`: that
//! crate would be built (and rust-analyzer with it) on every CI run for one check, and this
//! one runs with the rest of `cargo test`. There is no exception list: a cycle fails the test,
//! which names each module of the loop and the lines that make each step.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module of the crate, by path (`["engines", "html"]`); the crate root is `[]`.
type ModPath = Vec<String>;

/// One reference from a file to a module: the line, and the module referred to.
struct Reference {
    line: usize,
    target: ModPath,
}

struct Source {
    module: ModPath,
    file: String,
    code: String,
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    read_sources(&root, &root, &mut sources);
    assert!(sources.len() > 50, "expected the crate's files under {}", root.display());
    let cycles = cycles_in(&sources);
    assert!(cycles.is_empty(), "imports must point down; these modules import each other:\n\n{}", cycles.join("\n\n"));
}

#[test]
fn the_checker_finds_a_loop_through_a_re_export_and_ignores_comments_strings_and_parents() {
    let source = |file: &str, code: &str| {
        let module = module_of(file);
        Source { module, file: file.to_string(), code: blank_comments_and_strings(code) }
    };
    let tidy = vec![
        source("lib.rs", "pub mod a; pub mod b;"),
        // A comment and a string naming `b` are no imports; a test module's `super` is the file.
        source(
            "a.rs",
            "// use crate::b::X;\nfn f() { let s = \"crate::b::x()\"; let c = '{'; }\n#[cfg(test)] mod tests { use super::*; fn t() { crate::b::X; } }",
        ),
        source("b/mod.rs", "mod inner;\npub use inner::X;\nuse crate::a;\nfn g() { inner::h(); }"),
        // A file using its directory's front is a part using its whole, not a loop.
        source("b/inner.rs", "use super::g;\npub struct X;"),
    ];
    assert_eq!(cycles_in(&tidy), Vec::<String>::new());

    let tangled = vec![
        source("lib.rs", "pub mod a; pub mod b;"),
        source("a.rs", "fn f<'a>(x: &'a str) { crate::b::X::new(); }"),
        source("b/mod.rs", "mod inner; mod other;\npub use inner::X;"),
        source("b/inner.rs", "use crate::{a::{self, f}, b};\npub struct X;"),
        source("b/other.rs", "use super::inner;\nfn k() { inner::X; }"),
    ];
    let found = cycles_in(&tangled);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("a → b → a"), "{}", found[0]);
    assert!(found[0].contains("a.rs:1") && found[0].contains("b/inner.rs:1"), "{}", found[0]);

    let siblings = vec![
        source("lib.rs", "pub mod b;"),
        source("b/mod.rs", "mod inner; mod other;"),
        source("b/inner.rs", "use super::other as o;\nfn f() { o::g(); }"),
        source("b/other.rs", "fn g() { super::inner::f(); }"),
    ];
    let found = cycles_in(&siblings);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("b::inner → b::other → b::inner"), "{}", found[0]);
}

fn read_sources(root: &Path, dir: &Path, into: &mut Vec<Source>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src/ is readable").map(|e| e.expect("a directory entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_sources(root, &path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let file = path.strip_prefix(root).expect("under src/").to_string_lossy().replace('\\', "/");
            // The binary is a crate of its own: its `crate::` is not the library's.
            if file == "main.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            into.push(Source { module: module_of(&file), file, code: blank_comments_and_strings(&text) });
        }
    }
}

/// `lib.rs` → `[]`, `a.rs` → `[a]`, `a/mod.rs` → `[a]`, `a/b.rs` → `[a, b]`.
fn module_of(file: &str) -> ModPath {
    let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The source with comments, string and character literals replaced by spaces (line breaks
/// kept, so line numbers stay right): what they say is no import.
fn blank_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br#"…"#: no escapes, ended by a quote and as many hashes.
            let open = chars[i..].iter().position(|&c| c == '"').expect("a raw string opens with a quote");
            for _ in 0..=open {
                out.push(' ');
            }
            i += open + 1;
            while i < chars.len() {
                if chars[i] == '"' && chars[i + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\''); a lifetime ('a) has no closing quote.
            let end = if next == Some('\\') { chars[i + 2..].iter().position(|&c| c == '\'').map_or(chars.len(), |p| i + 3 + p) } else { i + 3 };
            while i < end.min(chars.len()) {
                out.push(' ');
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At a raw string's `r` (or `br`), the number of `#`s it opens with.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let preceded_by_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let start = match (chars[i], chars.get(i + 1)) {
        ('r', _) => i + 1,
        ('b', Some('r')) => i + 2,
        _ => return None,
    };
    if preceded_by_word {
        return None;
    }
    let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
    (chars.get(start + hashes) == Some(&'"')).then_some(hashes)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Path, // ::
    Punct(char),
}

fn tokens(code: &str) -> Vec<(Token, usize)> {
    let mut out = Vec::new();
    let mut line = 1;
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Word(chars[start..i].iter().collect()), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Token::Path, line));
            i += 2;
        } else {
            out.push((Token::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// What one file says: the paths it uses (as written, from the module they are written in),
/// the names its `use` lines bring in, and its `pub use` re-exports.
#[derive(Default)]
struct Said {
    /// (line, the module the path is written in, the path).
    paths: Vec<(usize, ModPath, Vec<String>)>,
    /// Local name → (the module its `use` line is in, the path it names).
    aliases: BTreeMap<String, (ModPath, Vec<String>)>,
    /// Name → path, for `pub use` lines at the file's top level.
    reexports: BTreeMap<String, Vec<String>>,
}

fn read_file(source: &Source) -> Said {
    let toks = tokens(&source.code);
    let mut said = Said::default();
    // Inline modules (`mod tests { … }`): their names and the brace depth they opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let word = |i: usize| match toks.get(i) {
        Some((Token::Word(w), _)) => Some(w.as_str()),
        _ => None,
    };
    while i < toks.len() {
        let here = || {
            let mut m = source.module.clone();
            m.extend(inline.iter().map(|(n, _)| n.clone()));
            m
        };
        if is_cfg_test(&toks, i) {
            i = past_item(&toks, i + 7);
            continue;
        }
        match &toks[i].0 {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Token::Word(w) if w == "mod" && toks.get(i + 2).is_some_and(|t| t.0 == Token::Punct('{')) => {
                if let Some(name) = word(i + 1) {
                    inline.push((name.to_string(), depth));
                }
            }
            Token::Word(w) if w == "use" => {
                let public = i > 0 && (word(i - 1) == Some("pub") || toks.get(i - 1).is_some_and(|t| t.0 == Token::Punct(')')));
                let module = here();
                let mut trees = Vec::new();
                let end = use_tree(&toks, i + 1, Vec::new(), &mut trees);
                for (path, name, line) in trees {
                    said.paths.push((line, module.clone(), path.clone()));
                    if let Some(name) = name {
                        if public && inline.is_empty() {
                            said.reexports.insert(name.clone(), path.clone());
                        }
                        said.aliases.insert(name, (module.clone(), path));
                    }
                }
                i = end;
                continue;
            }
            Token::Word(first) if toks.get(i + 1).is_some_and(|t| t.0 == Token::Path) && (i == 0 || toks[i - 1].0 != Token::Path) => {
                let line = toks[i].1;
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while toks.get(j).is_some_and(|t| t.0 == Token::Path) {
                    match word(j + 1) {
                        Some(w) => path.push(w.to_string()),
                        None => break,
                    }
                    j += 2;
                }
                said.paths.push((line, here(), path));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    said
}

/// `#[cfg(test)]` at `i`.
fn is_cfg_test(toks: &[(Token, usize)], i: usize) -> bool {
    let want =
        [Token::Punct('#'), Token::Punct('['), Token::Word("cfg".into()), Token::Punct('('), Token::Word("test".into()), Token::Punct(')'), Token::Punct(']')];
    toks.len() >= i + want.len() && toks[i..i + want.len()].iter().map(|t| &t.0).eq(want.iter())
}

/// Just past the item that starts at `i`: its `;`, or the `}` that closes its first `{`.
fn past_item(toks: &[(Token, usize)], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some((token, _)) = toks.get(i) {
        i += 1;
        match token {
            Token::Punct(';') if depth == 0 => return i,
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    i
}

/// Reads one use tree from `i` (after `use`, or inside braces), pushing (full path, the local
/// name it binds or `None` for a glob, line); returns the index just past the tree's end.
fn use_tree(toks: &[(Token, usize)], mut i: usize, mut prefix: Vec<String>, into: &mut Vec<(Vec<String>, Option<String>, usize)>) -> usize {
    loop {
        match toks.get(i) {
            Some((Token::Word(w), line)) => {
                let line = *line;
                if w != "self" || prefix.is_empty() {
                    prefix.push(w.clone());
                }
                i += 1;
                match toks.get(i).map(|t| &t.0) {
                    Some(Token::Path) => i += 1,
                    _ => {
                        let mut name = prefix.last().cloned();
                        if let (Some((Token::Word(a), _)), Some((Token::Word(alias), _))) = (toks.get(i), toks.get(i + 1)) {
                            if a == "as" {
                                name = Some(alias.clone());
                                i += 2;
                            }
                        }
                        into.push((prefix, name.filter(|n| n != "_"), line));
                        return skip_separator(toks, i);
                    }
                }
            }
            Some((Token::Punct('*'), line)) => {
                into.push((prefix, None, *line));
                return skip_separator(toks, i + 1);
            }
            Some((Token::Punct('{'), _)) => {
                i += 1;
                while toks.get(i).is_some_and(|t| t.0 != Token::Punct('}')) {
                    i = use_tree(toks, i, prefix.clone(), into);
                }
                return skip_separator(toks, i + 1);
            }
            _ => return i + 1,
        }
    }
}

fn skip_separator(toks: &[(Token, usize)], i: usize) -> usize {
    match toks.get(i).map(|t| &t.0) {
        Some(Token::Punct(',' | ';')) => i + 1,
        _ => i,
    }
}

struct Crate {
    files: BTreeSet<ModPath>,
    said: BTreeMap<ModPath, Said>,
}

impl Crate {
    /// The path as written in `from`, made absolute: `crate::`, `super::`, `self::`, a child
    /// module's name, or a name a `use` line brought in. `None`: not this crate's.
    fn absolute(&self, from: &ModPath, path: &[String], depth: usize) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => from.clone(),
            "super" => {
                let mut base = from.clone();
                let mut rest = rest;
                base.pop()?;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                return Some(base);
            }
            _ => {
                let mut child = from.clone();
                child.push(first.clone());
                if self.is_module(&child) {
                    child.extend(rest.iter().cloned());
                    return Some(child);
                }
                let file = self.file_of(from);
                let (alias_from, named) = self.said.get(&file)?.aliases.get(first)?;
                if depth > 8 || named.as_slice() == path {
                    return None;
                }
                let mut base = self.absolute(alias_from, named, depth + 1)?;
                base.extend(rest.iter().cloned());
                return Some(base);
            }
        };
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn is_module(&self, path: &ModPath) -> bool {
        self.files.contains(path)
    }

    /// The file a module (perhaps an inline one) is written in.
    fn file_of(&self, module: &ModPath) -> ModPath {
        let mut m = module.clone();
        while !self.is_module(&m) {
            m.pop();
        }
        m
    }

    /// The file that holds what an absolute path names, following `pub use` re-exports.
    fn holder(&self, path: &[String], depth: usize) -> ModPath {
        let mut module: ModPath = Vec::new();
        for segment in path {
            let mut next = module.clone();
            next.push(segment.clone());
            if self.is_module(&next) {
                module = next;
                continue;
            }
            if let Some(target) = self.said.get(&module).and_then(|s| s.reexports.get(segment)) {
                if depth < 8 {
                    if let Some(abs) = self.absolute(&module, target, depth + 1) {
                        return self.holder(&abs, depth + 1);
                    }
                }
            }
            break;
        }
        module
    }
}

/// Every cycle, one per tangle (a strongly connected set of modules) in each directory's
/// graph, as "a → b → a" and the references that make each step.
fn cycles_in(sources: &[Source]) -> Vec<String> {
    let files: BTreeSet<ModPath> = sources.iter().map(|s| s.module.clone()).collect();
    let mut krate = Crate { files, said: BTreeMap::new() };
    let files_by_module: BTreeMap<ModPath, &str> = sources.iter().map(|s| (s.module.clone(), s.file.as_str())).collect();
    for source in sources {
        krate.said.insert(source.module.clone(), read_file(source));
    }
    // Directory → (from node, to node) → the lines that make that edge.
    let mut graphs: BTreeMap<ModPath, BTreeMap<(String, String), Vec<String>>> = BTreeMap::new();
    for (module, said) in &krate.said {
        let mut references = Vec::new();
        for (line, from, path) in &said.paths {
            if let Some(abs) = krate.absolute(from, path, 0) {
                references.push(Reference { line: *line, target: krate.holder(&abs, 0) });
            }
        }
        for reference in references {
            let shared = module.iter().zip(&reference.target).take_while(|(a, b)| a == b).count();
            // A module using itself, a part of itself, or the directory it is part of.
            if shared == module.len() || shared == reference.target.len() {
                continue;
            }
            let edge = (module[shared].clone(), reference.target[shared].clone());
            let at = format!("{}:{}", files_by_module[module], reference.line);
            let lines = graphs.entry(module[..shared].to_vec()).or_default().entry(edge).or_default();
            if !lines.contains(&at) {
                lines.push(at);
            }
        }
    }
    let mut found = Vec::new();
    for (dir, edges) in &graphs {
        for (cycle, members) in tangles(edges) {
            let name = |n: &String| if dir.is_empty() { n.clone() } else { format!("{}::{n}", dir.join("::")) };
            let mut text = cycle.iter().map(name).collect::<Vec<_>>().join(" → ");
            text.push_str(&format!(" → {}", name(&cycle[0])));
            if members.len() > cycle.len() {
                text.push_str(&format!("\n  (one loop of a tangle of {}: {})", members.len(), members.iter().map(name).collect::<Vec<_>>().join(", ")));
            }
            for (k, from) in cycle.iter().enumerate() {
                let to = &cycle[(k + 1) % cycle.len()];
                let lines = &edges[&(from.clone(), to.clone())];
                text.push_str(&format!("\n  {} → {}: {}", name(from), name(to), lines.join(", ")));
            }
            found.push(text);
        }
    }
    found
}

/// Each strongly connected set of two or more nodes (Tarjan's algorithm), as one loop through
/// it (the shortest path from its first member back to itself) and all its members.
fn tangles(edges: &BTreeMap<(String, String), Vec<String>>) -> Vec<(Vec<String>, Vec<String>)> {
    let mut next: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
        next.entry(to).or_default();
    }
    struct Walk<'a> {
        next: &'a BTreeMap<&'a String, Vec<&'a String>>,
        index: BTreeMap<&'a String, usize>,
        low: BTreeMap<&'a String, usize>,
        stack: Vec<&'a String>,
        sets: Vec<Vec<&'a String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a String) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        let next = w.next;
        for &u in &next[v] {
            if !w.index.contains_key(u) {
                visit(w, u);
                let low = w.low[v].min(w.low[u]);
                w.low.insert(v, low);
            } else if w.stack.contains(&u) {
                let low = w.low[v].min(w.index[u]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let at = w.stack.iter().position(|&x| x == v).expect("on the stack");
            let set = w.stack.split_off(at);
            if set.len() > 1 {
                w.sets.push(set);
            }
        }
    }
    let mut walk = Walk { next: &next, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), sets: Vec::new() };
    for &v in next.keys() {
        if !walk.index.contains_key(v) {
            visit(&mut walk, v);
        }
    }
    walk.sets
        .iter()
        .map(|set| {
            let mut members: Vec<&String> = set.clone();
            members.sort();
            let start = members[0];
            // Breadth-first from the start back to itself, inside the set.
            let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            'search: while let Some(v) = queue.pop_front() {
                for &u in &next[v] {
                    if !members.contains(&u) {
                        continue;
                    }
                    if u == start {
                        came_from.insert(start, v);
                        break 'search;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = came_from.entry(u) {
                        e.insert(v);
                        queue.push_back(u);
                    }
                }
            }
            let mut cycle = vec![start.clone()];
            let mut v = came_from[start];
            while v != start {
                cycle.push(v.clone());
                v = came_from[v];
            }
            cycle[1..].reverse();
            (cycle, members.into_iter().cloned().collect())
        })
        .collect()
}
