#!/usr/bin/env python3
"""Print gemmi's reading of MTZ headers as JSON: {path: facts}. Needs the gemmi module.

Used by tests/mtz_vs_gemmi.rs when I2_TEST_PYTHON is set, and to regenerate
tests/fixtures/mtz_expected.json:  python gemmi_mtz_facts.py --relative-to ROOT FILE... > out.json
"""
import json
import sys

import gemmi


def facts(path):
    m = gemmi.read_mtz_file(path)
    m.update_reso()
    return {
        "cell": [m.cell.a, m.cell.b, m.cell.c, m.cell.alpha, m.cell.beta, m.cell.gamma],
        "spacegroup": m.spacegroup.hm if m.spacegroup else None,
        "spacegroup_number": m.spacegroup.number if m.spacegroup else None,
        "columns": [[c.label, c.type, c.dataset_id] for c in m.columns],
        "nreflections": m.nreflections,
        "resolution": [m.resolution_low(), m.resolution_high()],
        "merged": len(m.batches) == 0,
        "nbatches": len(m.batches),
        "sort_order": list(m.sort_order),
        "datasets": [[d.id, d.project_name, d.crystal_name, d.dataset_name, d.wavelength] for d in m.datasets],
    }


def main(argv):
    rel = None
    if argv[:1] == ["--relative-to"]:
        rel, argv = argv[1].rstrip("/") + "/", argv[2:]
    out = {}
    for p in argv:
        key = p[len(rel):] if rel and p.startswith(rel) else p
        out[key] = facts(p)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
