//! Project-name rules and slugs.

/// Upstream accepts letters and digits (any script, as Python's `isalnum`), `_` and `-`.
pub fn is_valid_project_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Slug in the manner of Django's `slugify`: decompose accents and keep ASCII (`É` → `e`),
/// drop characters other than word characters, spaces and hyphens, lower-case, collapse
/// runs of spaces/hyphens into one hyphen, trim leading and trailing `-` and `_`.
pub fn slugify(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let ascii: String = s.nfkd().filter(char::is_ascii).collect();
    let kept: String = ascii
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '))
        .collect::<String>()
        .to_lowercase();
    let mut out = String::with_capacity(kept.len());
    let mut in_sep = false;
    for c in kept.trim().chars() {
        if c == ' ' || c == '-' {
            in_sep = true;
        } else {
            if in_sep && !out.is_empty() {
                out.push('-');
            }
            in_sep = false;
            out.push(c);
        }
    }
    out.trim_matches(|c| c == '-' || c == '_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert!(is_valid_project_name("My_Proj-2"));
        assert!(is_valid_project_name("Émile_2"));
        for bad in ["", "a b", "a/b", "../x", "a.b"] {
            assert!(!is_valid_project_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn slugs_like_django() {
        assert_eq!(slugify("My_Proj-2"), "my_proj-2");
        assert_eq!(slugify("  a  b--c "), "a-b-c");
        assert_eq!(slugify("_x_"), "x");
        assert_eq!(slugify("Hello World!"), "hello-world");
        assert_eq!(slugify("Émile_2"), "emile_2");
    }
}
