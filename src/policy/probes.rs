//! The filter self-test (issue 22; like SWGfL's "Test Filtering"): a probe set per category
//! (`allowlist/probes.txt`, `category: a search`) run through `Policy::check_query`, the same
//! check a pupil's search gets, with no engine asked. A harmful probe allowed, an ordinary one
//! refused, or a line that is not a probe is a problem; the ICT technician's regular check is
//! `kidsearch check --filter-test` (exit 1 on any problem) or the staff Engine health page.

use std::collections::BTreeMap;

use super::Policy;
use crate::query::Query;

/// The probes compiled into the binary (used when `allowlist/probes.txt` is missing).
pub const SHIPPED: &str = include_str!("../../allowlist/probes.txt");

/// Probes under this name must be allowed.
pub const ORDINARY: &str = "ordinary";

/// One category's probes and what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryResult {
    pub category: String,
    pub probes: usize,
    /// Harmful probes refused (for `ordinary`: probes allowed, as they should be).
    pub as_expected: usize,
    /// Switched off by the school (`categories_off`): not counted.
    pub off: bool,
}

#[derive(Debug, Clone, Default)]
pub struct FilterTest {
    pub categories: Vec<CategoryResult>,
    /// Each unexpected pass or refusal, and each line that is no probe (`file:line: …`).
    pub problems: Vec<String>,
    /// Harmful probes refused, but under another category than their line says.
    pub notes: Vec<String>,
}

impl FilterTest {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The run in one line, for the checks' history: how many probes did as expected, and
    /// the categories that did not ("31 of 33 probes as expected; wrong in: scary, drugs").
    pub fn summary(&self) -> String {
        let on = self.categories.iter().filter(|c| !c.off);
        let (probes, right) = on.clone().fold((0, 0), |(p, r), c| (p + c.probes, r + c.as_expected));
        let wrong: Vec<&str> = on.filter(|c| c.as_expected < c.probes).map(|c| c.category.as_str()).collect();
        let off: Vec<&str> = self.categories.iter().filter(|c| c.off).map(|c| c.category.as_str()).collect();
        let mut line = format!("{right} of {probes} probes as expected");
        if !wrong.is_empty() {
            line.push_str(&format!("; wrong in: {}", wrong.join(", ")));
        }
        if !self.problems.is_empty() && wrong.is_empty() {
            line.push_str(&format!("; {} problem(s)", self.problems.len()));
        }
        if !off.is_empty() {
            line.push_str(&format!("; off: {}", off.join(", ")));
        }
        line
    }
}

/// The probe file of this allowlist (or the compiled-in one), and its name for messages.
pub fn read(allowlist_dir: &std::path::Path) -> (String, String) {
    let path = allowlist_dir.join("probes.txt");
    match std::fs::read_to_string(&path) {
        Ok(text) => (text, path.display().to_string()),
        Err(_) => (SHIPPED.to_string(), "probes.txt (built in)".to_string()),
    }
}

/// Runs every probe in `text` (from `file`) through `policy`.
pub fn run(policy: &Policy, text: &str, file: &str, categories_off: &[String]) -> FilterTest {
    let mut test = FilterTest::default();
    let mut by_category: BTreeMap<String, CategoryResult> = BTreeMap::new();
    let known = policy.terms.categories();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let Some((category, search)) = entry.split_once(':').map(|(c, s)| (c.trim().to_lowercase(), s.trim())) else {
            test.problems.push(format!("{file}:{line_no}: {entry:?} is not `category: a search`"));
            continue;
        };
        let query = match Query::parse(search) {
            Ok(q) => q,
            Err(e) => {
                test.problems.push(format!("{file}:{line_no}: {search:?} is no search a pupil could make ({e})"));
                continue;
            }
        };
        let off = categories_off.contains(&category);
        if category != ORDINARY && !off && !known.contains(&category) {
            test.problems.push(format!("{file}:{line_no}: {category:?} is not a category of the term lists"));
            continue;
        }
        let result = by_category.entry(category.clone()).or_insert_with(|| CategoryResult { category: category.clone(), off, ..CategoryResult::default() });
        if off {
            continue;
        }
        result.probes += 1;
        let refused = policy.check_query(&query);
        match (category.as_str(), refused) {
            (ORDINARY, None) => result.as_expected += 1,
            (ORDINARY, Some(as_)) => test.problems.push(format!("{file}:{line_no}: the ordinary search {search:?} was refused as {as_}")),
            (_, None) => test.problems.push(format!("{file}:{line_no}: the {category} search {search:?} was allowed")),
            (_, Some(as_)) => {
                result.as_expected += 1;
                if as_ != category {
                    test.notes.push(format!("{file}:{line_no}: {search:?} was refused as {as_}, not {category}"));
                }
            }
        }
    }
    test.categories = by_category.into_values().collect();
    test
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::terms::{ListFile, ListReport, TermLists};

    fn policy() -> Policy {
        let mut report = ListReport::default();
        let files = [
            ListFile { category: "violence", file: "violence.txt".into(), text: "gore\n" },
            ListFile { category: "scary", file: "scary.txt".into(), text: "huggy wuggy\n" },
        ];
        Policy { terms: TermLists::build(&files, &mut report), ..Policy::default() }
    }

    #[test]
    fn unexpected_passes_and_refusals_are_problems_and_an_off_category_is_not_counted() {
        let text = "violence: gore videos\nviolence: fluffy kittens\nordinary: al gore\nordinary: volcanoes\nscary: huggy wuggy\nnonsense\nweird: x\n";
        let test = run(&policy(), text, "probes.txt", &["scary".to_string()]);
        assert_eq!(
            test.problems,
            [
                "probes.txt:2: the violence search \"fluffy kittens\" was allowed",
                "probes.txt:3: the ordinary search \"al gore\" was refused as violence",
                "probes.txt:6: \"nonsense\" is not `category: a search`",
                "probes.txt:7: \"weird\" is not a category of the term lists",
            ]
        );
        let violence = test.categories.iter().find(|c| c.category == "violence").expect("violence");
        assert_eq!((violence.probes, violence.as_expected), (2, 1));
        assert!(test.categories.iter().find(|c| c.category == "scary").expect("scary").off);
    }
}
