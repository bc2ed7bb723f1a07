//! The task chooser's grouping. The registry has no categories, so tasks are placed by a
//! short list of well-known task names, then by words in their titles; anything else is a
//! utility.

use i2_tasks::TaskInfo;

/// The categories in the order the chooser shows them.
pub const CATEGORIES: &[&str] = &[
    "Import and export",
    "Data reduction",
    "Experimental phasing",
    "Molecular replacement",
    "Refinement",
    "Model building",
    "Ligands",
    "Validation and analysis",
    "Utilities",
];

/// Tasks whose titles do not say where they belong.
const BY_NAME: &[(&str, &str)] = &[
    ("import_merged", "Import and export"),
    ("ImportFreeR", "Import and export"),
    ("freerflag", "Data reduction"),
    ("aimless_pipe", "Data reduction"),
    ("ctruncate", "Data reduction"),
    ("pointless_reindexToMatch", "Data reduction"),
    ("xia2_dials", "Data reduction"),
    ("xia2_xds", "Data reduction"),
    ("phaser_pipeline", "Molecular replacement"),
    ("phaser_simple", "Molecular replacement"),
    ("molrep_mr", "Molecular replacement"),
    ("mrbump_basic", "Molecular replacement"),
    ("crank2", "Experimental phasing"),
    ("shelx", "Experimental phasing"),
    ("prosmart_refmac", "Refinement"),
    ("servalcat_pipe", "Refinement"),
    ("buccaneer_build_refine_mr", "Model building"),
    ("modelcraft", "Model building"),
    ("coot_rebuild", "Model building"),
    ("LidiaAcedrgNew", "Ligands"),
    ("acedrgNew", "Ligands"),
    ("validate_protein", "Validation and analysis"),
    ("edstats", "Validation and analysis"),
];

/// Words in a task's title or name, tried in order (the first match wins).
const BY_WORD: &[(&str, &str)] = &[
    ("import", "Import and export"),
    ("export", "Import and export"),
    ("deposit", "Import and export"),
    ("merge", "Data reduction"),
    ("scale", "Data reduction"),
    ("reduction", "Data reduction"),
    ("integrat", "Data reduction"),
    ("dials", "Data reduction"),
    ("xds", "Data reduction"),
    ("aimless", "Data reduction"),
    ("free r", "Data reduction"),
    ("molecular replacement", "Molecular replacement"),
    ("mr ", "Molecular replacement"),
    ("phaser", "Molecular replacement"),
    ("molrep", "Molecular replacement"),
    ("substructure", "Experimental phasing"),
    ("phasing", "Experimental phasing"),
    ("sad", "Experimental phasing"),
    ("density modification", "Experimental phasing"),
    ("refine", "Refinement"),
    ("refmac", "Refinement"),
    ("servalcat", "Refinement"),
    ("build", "Model building"),
    ("coot", "Model building"),
    ("ligand", "Ligands"),
    ("acedrg", "Ligands"),
    ("dictionary", "Ligands"),
    ("restraint", "Ligands"),
    ("valid", "Validation and analysis"),
    ("analys", "Validation and analysis"),
    ("statistic", "Validation and analysis"),
    ("compar", "Validation and analysis"),
    ("check", "Validation and analysis"),
];

/// The category a task is shown under.
pub fn category_of(task: &TaskInfo) -> &'static str {
    if let Some((_, c)) = BY_NAME.iter().find(|(n, _)| *n == task.name) {
        return c;
    }
    let hay = format!(
        "{} {} {}",
        task.title.as_deref().unwrap_or_default(),
        task.short_title.as_deref().unwrap_or_default(),
        task.name
    )
    .to_lowercase();
    BY_WORD
        .iter()
        .find(|(w, _)| hay.contains(w))
        .map(|(_, c)| *c)
        .unwrap_or("Utilities")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, title: &str) -> TaskInfo {
        TaskInfo {
            name: name.into(),
            title: Some(title.into()),
            ..TaskInfo::default()
        }
    }

    #[test]
    fn names_then_words_then_utilities() {
        assert_eq!(
            category_of(&task("freerflag", "Add FreeR")),
            "Data reduction"
        );
        assert_eq!(
            category_of(&task("x", "Refinement - Servalcat")),
            "Refinement"
        );
        assert_eq!(category_of(&task("y", "Something else")), "Utilities");
        for (_, c) in BY_NAME.iter().chain(BY_WORD) {
            assert!(CATEGORIES.contains(c), "{c} is a listed category");
        }
    }
}
