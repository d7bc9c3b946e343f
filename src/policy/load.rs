//! Loading the policy files from `allowlist/` (or the copies built into the binary when a
//! folder is missing), collecting every problem with file and line.

use std::path::{Path, PathBuf};

use super::domains::DomainSet;
use super::terms::{ListFile, ListReport, TermLists};
use super::Policy;
use crate::config::{ConfigProblem, ConfigProblems};

/// The shipped lists, compiled in: (path under `allowlist/`, text).
const BUILT_IN: &[(&str, &str)] = &[
    ("terms/sexual.txt", include_str!("../../allowlist/terms/sexual.txt")),
    ("terms/violence.txt", include_str!("../../allowlist/terms/violence.txt")),
    ("terms/self-harm.txt", include_str!("../../allowlist/terms/self-harm.txt")),
    ("terms/drugs.txt", include_str!("../../allowlist/terms/drugs.txt")),
    ("terms/gambling.txt", include_str!("../../allowlist/terms/gambling.txt")),
    ("terms/extremism.txt", include_str!("../../allowlist/terms/extremism.txt")),
    ("terms/hate.txt", include_str!("../../allowlist/terms/hate.txt")),
    ("terms/local.txt", include_str!("../../allowlist/terms/local.txt")),
    ("terms/exceptions.txt", include_str!("../../allowlist/terms/exceptions.txt")),
    ("domains/adult/domains", include_str!("../../allowlist/domains/adult/domains")),
    ("domains/gambling/domains", include_str!("../../allowlist/domains/gambling/domains")),
    ("domains/drugs/domains", include_str!("../../allowlist/domains/drugs/domains")),
    ("domains/violence/domains", include_str!("../../allowlist/domains/violence/domains")),
    ("domains/local/domains", include_str!("../../allowlist/domains/local/domains")),
    ("ranking/kids.txt", include_str!("../../allowlist/ranking/kids.txt")),
    ("ranking/trusted.txt", include_str!("../../allowlist/ranking/trusted.txt")),
    ("garden/domains", include_str!("../../allowlist/garden/domains")),
];

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

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
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

/// Loads every list. Errors stop the server; warnings are returned for `check` and the log.
pub fn load_policy(allowlist_dir: &Path, walled_garden: bool) -> Result<(Policy, Vec<ConfigProblem>), ConfigProblems> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    // Term lists: every `terms/<category>.txt`; `exceptions.txt` is the exceptions list.
    let term_files = part(allowlist_dir, "terms", &mut errors);
    let lists: Vec<ListFile<'_>> = term_files
        .iter()
        .filter(|f| f.relative.ends_with(".txt"))
        .map(|f| ListFile { category: f.relative.trim_start_matches("terms/").trim_end_matches(".txt"), file: f.shown.clone(), text: &f.text })
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
        Ok((Policy { terms, blocked, kids, trusted, garden }, warnings))
    } else {
        // Report everything at once, so a technician fixes the file in one go.
        errors.extend(warnings);
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(ConfigProblems(errors))
    }
}
