//! Loading the policy files from `allowlist/` (or the copies built into the binary when a
//! folder is missing), collecting every problem with file and line.

use std::path::{Path, PathBuf};

use super::domains::DomainSet;
use super::terms::{ListFile, ListReport, TermLists};
use super::Policy;
use crate::config::{ConfigProblem, ConfigProblems};

/// The shipped lists, compiled in: (path under `allowlist/`, text).
const BUILT_IN: &[(&str, &str)] = &[
    ("terms/circumvention.txt", include_str!("../../allowlist/terms/circumvention.txt")),
    ("terms/drugs.cy.txt", include_str!("../../allowlist/terms/drugs.cy.txt")),
    ("terms/drugs.multi.txt", include_str!("../../allowlist/terms/drugs.multi.txt")),
    ("terms/drugs.ro.txt", include_str!("../../allowlist/terms/drugs.ro.txt")),
    ("terms/drugs.ru-own.txt", include_str!("../../allowlist/terms/drugs.ru-own.txt")),
    ("terms/drugs.txt", include_str!("../../allowlist/terms/drugs.txt")),
    ("terms/drugs.uk.txt", include_str!("../../allowlist/terms/drugs.uk.txt")),
    ("terms/drugs.ur.txt", include_str!("../../allowlist/terms/drugs.ur.txt")),
    ("terms/exceptions.txt", include_str!("../../allowlist/terms/exceptions.txt")),
    ("terms/extremism.multi.txt", include_str!("../../allowlist/terms/extremism.multi.txt")),
    ("terms/extremism.ru-own.txt", include_str!("../../allowlist/terms/extremism.ru-own.txt")),
    ("terms/extremism.txt", include_str!("../../allowlist/terms/extremism.txt")),
    ("terms/gambling.multi.txt", include_str!("../../allowlist/terms/gambling.multi.txt")),
    ("terms/gambling.ro.txt", include_str!("../../allowlist/terms/gambling.ro.txt")),
    ("terms/gambling.ru-own.txt", include_str!("../../allowlist/terms/gambling.ru-own.txt")),
    ("terms/gambling.txt", include_str!("../../allowlist/terms/gambling.txt")),
    ("terms/gambling.uk.txt", include_str!("../../allowlist/terms/gambling.uk.txt")),
    ("terms/gambling.ur.txt", include_str!("../../allowlist/terms/gambling.ur.txt")),
    ("terms/hate.ar.txt", include_str!("../../allowlist/terms/hate.ar.txt")),
    ("terms/hate.de.txt", include_str!("../../allowlist/terms/hate.de.txt")),
    ("terms/hate.en.txt", include_str!("../../allowlist/terms/hate.en.txt")),
    ("terms/hate.es.txt", include_str!("../../allowlist/terms/hate.es.txt")),
    ("terms/hate.fr.txt", include_str!("../../allowlist/terms/hate.fr.txt")),
    ("terms/hate.it.txt", include_str!("../../allowlist/terms/hate.it.txt")),
    ("terms/hate.pl.txt", include_str!("../../allowlist/terms/hate.pl.txt")),
    ("terms/hate.pt.txt", include_str!("../../allowlist/terms/hate.pt.txt")),
    ("terms/hate.ro.txt", include_str!("../../allowlist/terms/hate.ro.txt")),
    ("terms/hate.ru.txt", include_str!("../../allowlist/terms/hate.ru.txt")),
    ("terms/hate.tr.txt", include_str!("../../allowlist/terms/hate.tr.txt")),
    ("terms/hate.txt", include_str!("../../allowlist/terms/hate.txt")),
    ("terms/hate.uk.txt", include_str!("../../allowlist/terms/hate.uk.txt")),
    ("terms/local.txt", include_str!("../../allowlist/terms/local.txt")),
    ("terms/malware.txt", include_str!("../../allowlist/terms/malware.txt")),
    ("terms/scary.txt", include_str!("../../allowlist/terms/scary.txt")),
    ("terms/self-harm.cy.txt", include_str!("../../allowlist/terms/self-harm.cy.txt")),
    ("terms/self-harm.hi-deva.txt", include_str!("../../allowlist/terms/self-harm.hi-deva.txt")),
    ("terms/self-harm.multi.txt", include_str!("../../allowlist/terms/self-harm.multi.txt")),
    ("terms/self-harm.pa.txt", include_str!("../../allowlist/terms/self-harm.pa.txt")),
    ("terms/self-harm.ro.txt", include_str!("../../allowlist/terms/self-harm.ro.txt")),
    ("terms/self-harm.ru-own.txt", include_str!("../../allowlist/terms/self-harm.ru-own.txt")),
    ("terms/self-harm.txt", include_str!("../../allowlist/terms/self-harm.txt")),
    ("terms/self-harm.uk.txt", include_str!("../../allowlist/terms/self-harm.uk.txt")),
    ("terms/self-harm.ur.txt", include_str!("../../allowlist/terms/self-harm.ur.txt")),
    ("terms/sexual.ar.txt", include_str!("../../allowlist/terms/sexual.ar.txt")),
    ("terms/sexual.cy.txt", include_str!("../../allowlist/terms/sexual.cy.txt")),
    ("terms/sexual.de.txt", include_str!("../../allowlist/terms/sexual.de.txt")),
    ("terms/sexual.en.txt", include_str!("../../allowlist/terms/sexual.en.txt")),
    ("terms/sexual.es.txt", include_str!("../../allowlist/terms/sexual.es.txt")),
    ("terms/sexual.fr.txt", include_str!("../../allowlist/terms/sexual.fr.txt")),
    ("terms/sexual.hi-deva.txt", include_str!("../../allowlist/terms/sexual.hi-deva.txt")),
    ("terms/sexual.hi.txt", include_str!("../../allowlist/terms/sexual.hi.txt")),
    ("terms/sexual.it.txt", include_str!("../../allowlist/terms/sexual.it.txt")),
    ("terms/sexual.multi.txt", include_str!("../../allowlist/terms/sexual.multi.txt")),
    ("terms/sexual.pa.txt", include_str!("../../allowlist/terms/sexual.pa.txt")),
    ("terms/sexual.pl.txt", include_str!("../../allowlist/terms/sexual.pl.txt")),
    ("terms/sexual.pt.txt", include_str!("../../allowlist/terms/sexual.pt.txt")),
    ("terms/sexual.ro.txt", include_str!("../../allowlist/terms/sexual.ro.txt")),
    ("terms/sexual.ru-own.txt", include_str!("../../allowlist/terms/sexual.ru-own.txt")),
    ("terms/sexual.ru.txt", include_str!("../../allowlist/terms/sexual.ru.txt")),
    ("terms/sexual.tr.txt", include_str!("../../allowlist/terms/sexual.tr.txt")),
    ("terms/sexual.txt", include_str!("../../allowlist/terms/sexual.txt")),
    ("terms/sexual.uk.txt", include_str!("../../allowlist/terms/sexual.uk.txt")),
    ("terms/sexual.ur.txt", include_str!("../../allowlist/terms/sexual.ur.txt")),
    ("terms/swearing.ar.txt", include_str!("../../allowlist/terms/swearing.ar.txt")),
    ("terms/swearing.cy.txt", include_str!("../../allowlist/terms/swearing.cy.txt")),
    ("terms/swearing.de.txt", include_str!("../../allowlist/terms/swearing.de.txt")),
    ("terms/swearing.en.txt", include_str!("../../allowlist/terms/swearing.en.txt")),
    ("terms/swearing.es.txt", include_str!("../../allowlist/terms/swearing.es.txt")),
    ("terms/swearing.fr.txt", include_str!("../../allowlist/terms/swearing.fr.txt")),
    ("terms/swearing.hi-deva.txt", include_str!("../../allowlist/terms/swearing.hi-deva.txt")),
    ("terms/swearing.hi.txt", include_str!("../../allowlist/terms/swearing.hi.txt")),
    ("terms/swearing.it.txt", include_str!("../../allowlist/terms/swearing.it.txt")),
    ("terms/swearing.pa.txt", include_str!("../../allowlist/terms/swearing.pa.txt")),
    ("terms/swearing.pl.txt", include_str!("../../allowlist/terms/swearing.pl.txt")),
    ("terms/swearing.pt.txt", include_str!("../../allowlist/terms/swearing.pt.txt")),
    ("terms/swearing.ro.txt", include_str!("../../allowlist/terms/swearing.ro.txt")),
    ("terms/swearing.ru.txt", include_str!("../../allowlist/terms/swearing.ru.txt")),
    ("terms/swearing.tr.txt", include_str!("../../allowlist/terms/swearing.tr.txt")),
    ("terms/swearing.txt", include_str!("../../allowlist/terms/swearing.txt")),
    ("terms/swearing.uk.txt", include_str!("../../allowlist/terms/swearing.uk.txt")),
    ("terms/swearing.ur.txt", include_str!("../../allowlist/terms/swearing.ur.txt")),
    ("terms/violence.ar.txt", include_str!("../../allowlist/terms/violence.ar.txt")),
    ("terms/violence.cy.txt", include_str!("../../allowlist/terms/violence.cy.txt")),
    ("terms/violence.en.txt", include_str!("../../allowlist/terms/violence.en.txt")),
    ("terms/violence.multi.txt", include_str!("../../allowlist/terms/violence.multi.txt")),
    ("terms/violence.ro.txt", include_str!("../../allowlist/terms/violence.ro.txt")),
    ("terms/violence.ru-own.txt", include_str!("../../allowlist/terms/violence.ru-own.txt")),
    ("terms/violence.txt", include_str!("../../allowlist/terms/violence.txt")),
    ("terms/violence.uk.txt", include_str!("../../allowlist/terms/violence.uk.txt")),
    ("domains/adult/domains", include_str!("../../allowlist/domains/adult/domains")),
    ("domains/gambling/domains", include_str!("../../allowlist/domains/gambling/domains")),
    ("domains/drugs/domains", include_str!("../../allowlist/domains/drugs/domains")),
    ("domains/violence/domains", include_str!("../../allowlist/domains/violence/domains")),
    ("domains/local/domains", include_str!("../../allowlist/domains/local/domains")),
    ("ranking/kids.txt", include_str!("../../allowlist/ranking/kids.txt")),
    ("ranking/trusted.txt", include_str!("../../allowlist/ranking/trusted.txt")),
    ("garden/domains", include_str!("../../allowlist/garden/domains")),
    ("vocabulary/words.txt", include_str!("../../allowlist/vocabulary/words.txt")),
];

/// The walled garden's domains (`garden/domains` under `allowlist_dir`, or the built-in copy),
/// as plain names: for the iPad profile's content filter.
pub fn garden_domains(allowlist_dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(allowlist_dir.join("garden/domains"))
        .unwrap_or_else(|_| BUILT_IN.iter().find(|(p, _)| *p == "garden/domains").map(|(_, t)| t.to_string()).unwrap_or_default());
    text.lines().map(|l| l.split('#').next().unwrap_or_default().trim().to_lowercase()).filter(|l| !l.is_empty()).collect()
}

/// The block lists `kidsearch lists update` fetched (`lists`): `<dir>/<category>/domains` for
/// each category the settings name. Each was parsed with [`DomainSet::parse`] before it was
/// installed, and what that skipped was reported then.
#[derive(Debug, Clone, Default)]
pub struct FetchedLists {
    pub dir: PathBuf,
    pub categories: Vec<String>,
}

impl FetchedLists {
    /// The fetched lists the settings name, in their data dir.
    pub fn of(config: &crate::config::ServerConfig) -> FetchedLists {
        FetchedLists { dir: config.fetched_lists_dir(), categories: config.lists_categories.clone() }
    }

    /// The `domains` file of each named category (whether or not it was fetched yet).
    pub fn files(&self) -> Vec<(String, PathBuf)> {
        self.categories.iter().map(|c| (c.clone(), self.dir.join(c).join("domains"))).collect()
    }

    /// The fetched lists there are, by category; a category not fetched yet is left out (the
    /// shipped `allowlist/domains/` still apply).
    fn load(&self, problems: &mut Vec<ConfigProblem>) -> Vec<(String, DomainSet)> {
        let mut sets = Vec::new();
        for (category, path) in self.files() {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    // Skipped lines were reported by `lists update` when it installed the file;
                    // a real UT1 list has a few, and they must not make every `check` fail.
                    let mut skipped = Vec::new();
                    sets.push((category, DomainSet::parse(&text, &path.display().to_string(), &mut skipped)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => problems.push(ConfigProblem::whole_file(
                    path.display().to_string(),
                    format!("cannot read the fetched list: {e}"),
                    "check the data dir belongs to the kidsearch user, or run `kidsearch lists update` again",
                )),
            }
        }
        sets
    }
}

/// One list file: where it came from (for messages) and its text.
struct Loaded {
    /// Path under `allowlist/`, e.g. `terms/drugs.txt`.
    relative: String,
    /// What messages call it: the real path, or `<built-in allowlist/…>`.
    shown: String,
    text: String,
}

/// The files of one part (`terms`, `domains`, …): from disk if its folder exists, else built in.
fn part(allowlist_dir: &Path, folder: &str, problems: &mut Vec<ConfigProblem>) -> Vec<Loaded> {
    let dir = allowlist_dir.join(folder);
    if !dir.is_dir() {
        return BUILT_IN
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("{folder}/")))
            .map(|(p, t)| Loaded { relative: p.to_string(), shown: format!("<built-in allowlist/{p}>"), text: t.to_string() })
            .collect();
    }
    let mut files: Vec<PathBuf> = Vec::new();
    collect_files(&dir, &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(allowlist_dir).ok()?.to_string_lossy().replace('\\', "/");
            match std::fs::read_to_string(&path) {
                Ok(text) => Some(Loaded { relative, shown: path.display().to_string(), text }),
                Err(e) => {
                    problems.push(ConfigProblem::whole_file(
                        path.display().to_string(),
                        format!("cannot read it: {e}"),
                        "check the file is readable UTF-8 text",
                    ));
                    None
                }
            }
        })
        .collect()
}

pub(super) fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The category of a term file: its name up to the first dot (`sexual.pl.txt` → `sexual`),
/// so one category may be kept in a file per language or per source.
pub fn category_of(relative: &str) -> &str {
    let name = relative.trim_start_matches("terms/");
    name.split('.').next().unwrap_or(name)
}

/// Loads every list. Errors stop the server; warnings are returned for `check` and the log.
/// Term files of a category in `categories_off` (the school's choice) are not loaded.
pub fn load_policy(allowlist_dir: &Path, walled_garden: bool) -> Result<(Policy, Vec<ConfigProblem>), ConfigProblems> {
    load_policy_with(allowlist_dir, walled_garden, &[], "<settings>", None)
}

/// `load_policy` with the categories a school has switched off.
/// `config_file` names the settings file in a problem with `categories_off`; `fetched`, the
/// lists `kidsearch lists update` installed, blocked beside `allowlist/domains/`.
pub fn load_policy_with(
    allowlist_dir: &Path,
    walled_garden: bool,
    categories_off: &[String],
    config_file: &str,
    fetched: Option<&FetchedLists>,
) -> Result<(Policy, Vec<ConfigProblem>), ConfigProblems> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    // Term lists: every `terms/<category>[.<part>].txt`; `exceptions.txt` is the exceptions list.
    let term_files = part(allowlist_dir, "terms", &mut errors);
    for off in categories_off {
        let known = term_files.iter().any(|f| f.relative.ends_with(".txt") && category_of(&f.relative) == off);
        if !known || off == "exceptions" {
            let line = std::fs::read_to_string(config_file)
                .ok()
                .and_then(|text| text.lines().position(|l| l.trim_start().starts_with("categories_off")).map(|i| i + 1));
            let names: Vec<&str> = {
                let mut n: Vec<&str> =
                    term_files.iter().filter(|f| f.relative.ends_with(".txt")).map(|f| category_of(&f.relative)).filter(|c| *c != "exceptions").collect();
                n.sort_unstable();
                n.dedup();
                n
            };
            errors.push(ConfigProblem {
                file: config_file.to_string(),
                line,
                what: format!("categories_off names {off:?}, which is not a category of the term lists"),
                fix: format!("use the categories' names: {}", names.join(", ")),
            });
        }
    }
    // The child vocabulary: the known words a glued query ("howtomakeabomb") is read as.
    let vocabulary = part(allowlist_dir, "vocabulary", &mut errors).into_iter().filter(|f| f.relative == "vocabulary/words.txt");
    let vocabulary: Vec<Loaded> = vocabulary.collect();
    let lists: Vec<ListFile<'_>> = term_files
        .iter()
        .filter(|f| f.relative.ends_with(".txt"))
        .map(|f| ListFile { category: category_of(&f.relative), file: f.shown.clone(), text: &f.text })
        .filter(|f| !categories_off.iter().any(|off| off == f.category))
        .chain(vocabulary.iter().map(|f| ListFile { category: "vocabulary", file: f.shown.clone(), text: &f.text }))
        .collect();
    let mut report = ListReport::default();
    let terms = TermLists::build(&lists, &mut report);
    errors.extend(report.errors);
    warnings.extend(report.warnings);

    // Block lists: `domains/<category>/domains` (UT1 layout; other UT1 files such as `urls` are ignored).
    let blocked = part(allowlist_dir, "domains", &mut errors)
        .into_iter()
        .filter(|f| f.relative.ends_with("/domains"))
        .map(|f| {
            let category = f.relative.trim_start_matches("domains/").trim_end_matches("/domains").to_string();
            (category, DomainSet::parse(&f.text, &f.shown, &mut warnings))
        })
        .collect();
    let fetched = fetched.map(|f| f.load(&mut errors)).unwrap_or_default();

    let mut one = |folder: &str, name: &str| -> DomainSet {
        part(allowlist_dir, folder, &mut errors)
            .into_iter()
            .find(|f| f.relative == format!("{folder}/{name}"))
            .map(|f| DomainSet::parse(&f.text, &f.shown, &mut warnings))
            .unwrap_or_default()
    };
    let kids = one("ranking", "kids.txt");
    let trusted = one("ranking", "trusted.txt");
    let garden = walled_garden.then(|| one("garden", "domains"));
    if garden.as_ref().is_some_and(DomainSet::is_empty) {
        errors.push(ConfigProblem::whole_file(
            allowlist_dir.join("garden/domains").display().to_string(),
            "walled_garden is on but the garden list is empty: pupils would see no results",
            "add allowed domains to allowlist/garden/domains, or set walled_garden = false",
        ));
    }

    if errors.is_empty() {
        Ok((Policy { terms, blocked, fetched, kids, trusted, garden, local: Default::default(), generation: 0 }, warnings))
    } else {
        // Report everything at once, so a technician fixes the file in one go.
        errors.extend(warnings);
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(ConfigProblems(errors))
    }
}
