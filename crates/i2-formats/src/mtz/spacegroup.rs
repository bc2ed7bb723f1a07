//! The 230 space groups in their reference settings: number, Hermann–Mauguin symbol (with
//! spaces, as gemmi and CCP4 print it) and the short symbol. Used to name the space group of an
//! MTZ whose SYMINF record carries a compact or missing name (`C2`, `P3221`).

pub(crate) const SPACE_GROUPS: [(u16, &str, &str); 230] = [
    (1, "P 1", "P1"),
    (2, "P -1", "P-1"),
    (3, "P 1 2 1", "P2"),
    (4, "P 1 21 1", "P21"),
    (5, "C 1 2 1", "C2"),
    (6, "P 1 m 1", "Pm"),
    (7, "P 1 c 1", "Pc"),
    (8, "C 1 m 1", "Cm"),
    (9, "C 1 c 1", "Cc"),
    (10, "P 1 2/m 1", "P2/m"),
    (11, "P 1 21/m 1", "P21/m"),
    (12, "C 1 2/m 1", "C2/m"),
    (13, "P 1 2/c 1", "P2/c"),
    (14, "P 1 21/c 1", "P21/c"),
    (15, "C 1 2/c 1", "C2/c"),
    (16, "P 2 2 2", "P222"),
    (17, "P 2 2 21", "P2221"),
    (18, "P 21 21 2", "P21212"),
    (19, "P 21 21 21", "P212121"),
    (20, "C 2 2 21", "C2221"),
    (21, "C 2 2 2", "C222"),
    (22, "F 2 2 2", "F222"),
    (23, "I 2 2 2", "I222"),
    (24, "I 21 21 21", "I212121"),
    (25, "P m m 2", "Pmm2"),
    (26, "P m c 21", "Pmc21"),
    (27, "P c c 2", "Pcc2"),
    (28, "P m a 2", "Pma2"),
    (29, "P c a 21", "Pca21"),
    (30, "P n c 2", "Pnc2"),
    (31, "P m n 21", "Pmn21"),
    (32, "P b a 2", "Pba2"),
    (33, "P n a 21", "Pna21"),
    (34, "P n n 2", "Pnn2"),
    (35, "C m m 2", "Cmm2"),
    (36, "C m c 21", "Cmc21"),
    (37, "C c c 2", "Ccc2"),
    (38, "A m m 2", "Amm2"),
    (39, "A b m 2", "Abm2"),
    (40, "A m a 2", "Ama2"),
    (41, "A b a 2", "Aba2"),
    (42, "F m m 2", "Fmm2"),
    (43, "F d d 2", "Fdd2"),
    (44, "I m m 2", "Imm2"),
    (45, "I b a 2", "Iba2"),
    (46, "I m a 2", "Ima2"),
    (47, "P m m m", "Pmmm"),
    (48, "P n n n", "Pnnn"),
    (49, "P c c m", "Pccm"),
    (50, "P b a n", "Pban"),
    (51, "P m m a", "Pmma"),
    (52, "P n n a", "Pnna"),
    (53, "P m n a", "Pmna"),
    (54, "P c c a", "Pcca"),
    (55, "P b a m", "Pbam"),
    (56, "P c c n", "Pccn"),
    (57, "P b c m", "Pbcm"),
    (58, "P n n m", "Pnnm"),
    (59, "P m m n", "Pmmn"),
    (60, "P b c n", "Pbcn"),
    (61, "P b c a", "Pbca"),
    (62, "P n m a", "Pnma"),
    (63, "C m c m", "Cmcm"),
    (64, "C m c a", "Cmca"),
    (65, "C m m m", "Cmmm"),
    (66, "C c c m", "Cccm"),
    (67, "C m m a", "Cmma"),
    (68, "C c c a", "Ccca"),
    (69, "F m m m", "Fmmm"),
    (70, "F d d d", "Fddd"),
    (71, "I m m m", "Immm"),
    (72, "I b a m", "Ibam"),
    (73, "I b c a", "Ibca"),
    (74, "I m m a", "Imma"),
    (75, "P 4", "P4"),
    (76, "P 41", "P41"),
    (77, "P 42", "P42"),
    (78, "P 43", "P43"),
    (79, "I 4", "I4"),
    (80, "I 41", "I41"),
    (81, "P -4", "P-4"),
    (82, "I -4", "I-4"),
    (83, "P 4/m", "P4/m"),
    (84, "P 42/m", "P42/m"),
    (85, "P 4/n", "P4/n"),
    (86, "P 42/n", "P42/n"),
    (87, "I 4/m", "I4/m"),
    (88, "I 41/a", "I41/a"),
    (89, "P 4 2 2", "P422"),
    (90, "P 4 21 2", "P4212"),
    (91, "P 41 2 2", "P4122"),
    (92, "P 41 21 2", "P41212"),
    (93, "P 42 2 2", "P4222"),
    (94, "P 42 21 2", "P42212"),
    (95, "P 43 2 2", "P4322"),
    (96, "P 43 21 2", "P43212"),
    (97, "I 4 2 2", "I422"),
    (98, "I 41 2 2", "I4122"),
    (99, "P 4 m m", "P4mm"),
    (100, "P 4 b m", "P4bm"),
    (101, "P 42 c m", "P42cm"),
    (102, "P 42 n m", "P42nm"),
    (103, "P 4 c c", "P4cc"),
    (104, "P 4 n c", "P4nc"),
    (105, "P 42 m c", "P42mc"),
    (106, "P 42 b c", "P42bc"),
    (107, "I 4 m m", "I4mm"),
    (108, "I 4 c m", "I4cm"),
    (109, "I 41 m d", "I41md"),
    (110, "I 41 c d", "I41cd"),
    (111, "P -4 2 m", "P-42m"),
    (112, "P -4 2 c", "P-42c"),
    (113, "P -4 21 m", "P-421m"),
    (114, "P -4 21 c", "P-421c"),
    (115, "P -4 m 2", "P-4m2"),
    (116, "P -4 c 2", "P-4c2"),
    (117, "P -4 b 2", "P-4b2"),
    (118, "P -4 n 2", "P-4n2"),
    (119, "I -4 m 2", "I-4m2"),
    (120, "I -4 c 2", "I-4c2"),
    (121, "I -4 2 m", "I-42m"),
    (122, "I -4 2 d", "I-42d"),
    (123, "P 4/m m m", "P4/mmm"),
    (124, "P 4/m c c", "P4/mcc"),
    (125, "P 4/n b m", "P4/nbm"),
    (126, "P 4/n n c", "P4/nnc"),
    (127, "P 4/m b m", "P4/mbm"),
    (128, "P 4/m n c", "P4/mnc"),
    (129, "P 4/n m m", "P4/nmm"),
    (130, "P 4/n c c", "P4/ncc"),
    (131, "P 42/m m c", "P42/mmc"),
    (132, "P 42/m c m", "P42/mcm"),
    (133, "P 42/n b c", "P42/nbc"),
    (134, "P 42/n n m", "P42/nnm"),
    (135, "P 42/m b c", "P42/mbc"),
    (136, "P 42/m n m", "P42/mnm"),
    (137, "P 42/n m c", "P42/nmc"),
    (138, "P 42/n c m", "P42/ncm"),
    (139, "I 4/m m m", "I4/mmm"),
    (140, "I 4/m c m", "I4/mcm"),
    (141, "I 41/a m d", "I41/amd"),
    (142, "I 41/a c d", "I41/acd"),
    (143, "P 3", "P3"),
    (144, "P 31", "P31"),
    (145, "P 32", "P32"),
    (146, "R 3", "H3"),
    (147, "P -3", "P-3"),
    (148, "R -3", "H-3"),
    (149, "P 3 1 2", "P312"),
    (150, "P 3 2 1", "P321"),
    (151, "P 31 1 2", "P3112"),
    (152, "P 31 2 1", "P3121"),
    (153, "P 32 1 2", "P3212"),
    (154, "P 32 2 1", "P3221"),
    (155, "R 3 2", "H32"),
    (156, "P 3 m 1", "P3m1"),
    (157, "P 3 1 m", "P31m"),
    (158, "P 3 c 1", "P3c1"),
    (159, "P 3 1 c", "P31c"),
    (160, "R 3 m", "H3m"),
    (161, "R 3 c", "H3c"),
    (162, "P -3 1 m", "P-31m"),
    (163, "P -3 1 c", "P-31c"),
    (164, "P -3 m 1", "P-3m1"),
    (165, "P -3 c 1", "P-3c1"),
    (166, "R -3 m", "H-3m"),
    (167, "R -3 c", "H-3c"),
    (168, "P 6", "P6"),
    (169, "P 61", "P61"),
    (170, "P 65", "P65"),
    (171, "P 62", "P62"),
    (172, "P 64", "P64"),
    (173, "P 63", "P63"),
    (174, "P -6", "P-6"),
    (175, "P 6/m", "P6/m"),
    (176, "P 63/m", "P63/m"),
    (177, "P 6 2 2", "P622"),
    (178, "P 61 2 2", "P6122"),
    (179, "P 65 2 2", "P6522"),
    (180, "P 62 2 2", "P6222"),
    (181, "P 64 2 2", "P6422"),
    (182, "P 63 2 2", "P6322"),
    (183, "P 6 m m", "P6mm"),
    (184, "P 6 c c", "P6cc"),
    (185, "P 63 c m", "P63cm"),
    (186, "P 63 m c", "P63mc"),
    (187, "P -6 m 2", "P-6m2"),
    (188, "P -6 c 2", "P-6c2"),
    (189, "P -6 2 m", "P-62m"),
    (190, "P -6 2 c", "P-62c"),
    (191, "P 6/m m m", "P6/mmm"),
    (192, "P 6/m c c", "P6/mcc"),
    (193, "P 63/m c m", "P63/mcm"),
    (194, "P 63/m m c", "P63/mmc"),
    (195, "P 2 3", "P23"),
    (196, "F 2 3", "F23"),
    (197, "I 2 3", "I23"),
    (198, "P 21 3", "P213"),
    (199, "I 21 3", "I213"),
    (200, "P m -3", "Pm-3"),
    (201, "P n -3", "Pn-3"),
    (202, "F m -3", "Fm-3"),
    (203, "F d -3", "Fd-3"),
    (204, "I m -3", "Im-3"),
    (205, "P a -3", "Pa-3"),
    (206, "I a -3", "Ia-3"),
    (207, "P 4 3 2", "P432"),
    (208, "P 42 3 2", "P4232"),
    (209, "F 4 3 2", "F432"),
    (210, "F 41 3 2", "F4132"),
    (211, "I 4 3 2", "I432"),
    (212, "P 43 3 2", "P4332"),
    (213, "P 41 3 2", "P4132"),
    (214, "I 41 3 2", "I4132"),
    (215, "P -4 3 m", "P-43m"),
    (216, "F -4 3 m", "F-43m"),
    (217, "I -4 3 m", "I-43m"),
    (218, "P -4 3 n", "P-43n"),
    (219, "F -4 3 c", "F-43c"),
    (220, "I -4 3 d", "I-43d"),
    (221, "P m -3 m", "Pm-3m"),
    (222, "P n -3 n", "Pn-3n"),
    (223, "P m -3 n", "Pm-3n"),
    (224, "P n -3 m", "Pn-3m"),
    (225, "F m -3 m", "Fm-3m"),
    (226, "F m -3 c", "Fm-3c"),
    (227, "F d -3 m", "Fd-3m"),
    (228, "F d -3 c", "Fd-3c"),
    (229, "I m -3 m", "Im-3m"),
    (230, "I a -3 d", "Ia-3d"),
];

/// Resolve the space group from the MTZ SYMINF name and number to the symbol gemmi reports.
/// A name that matches a reference setting (compact or spaced) wins; otherwise the number picks
/// the reference setting; a spaced name in a non-reference setting is kept as written.
pub fn resolve_hm(name: &str, number: Option<u16>) -> Option<String> {
    let compact = squash(name);
    let by_name = SPACE_GROUPS
        .iter()
        .find(|sg| !compact.is_empty() && (squash(sg.1) == compact || squash(sg.2) == compact));
    if let Some(sg) = by_name {
        return Some(sg.1.to_string());
    }
    let by_number = number.and_then(|n| SPACE_GROUPS.iter().find(|sg| sg.0 == n));
    if let Some(sg) = by_number.filter(|_| compact.is_empty() || !name.trim().contains(' ')) {
        return Some(sg.1.to_string());
    }
    let trimmed = name.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// Number of the reference setting named `hm`, if any.
pub fn number_of(hm: &str) -> Option<u16> {
    let compact = squash(hm);
    SPACE_GROUPS
        .iter()
        .find(|sg| squash(sg.1) == compact || squash(sg.2) == compact)
        .map(|sg| sg.0)
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_names_resolve_to_spaced_symbols() {
        assert_eq!(resolve_hm("C2", Some(5)).as_deref(), Some("C 1 2 1"));
        assert_eq!(resolve_hm("P3221", Some(154)).as_deref(), Some("P 32 2 1"));
        assert_eq!(
            resolve_hm("P 21 21 21", Some(19)).as_deref(),
            Some("P 21 21 21")
        );
        assert_eq!(resolve_hm("", Some(4)).as_deref(), Some("P 1 21 1"));
        assert_eq!(resolve_hm("", None), None);
        assert_eq!(number_of("P 32 2 1"), Some(154));
    }
}
