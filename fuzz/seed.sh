#!/usr/bin/env bash
# Seed corpora for the fuzz targets from small real files: the test files written for i2-formats,
# the ccp4i2 package ($I2_CCP4I2_ROOT) and, for MTZ, a tiny file made with gemmi ($I2_TEST_PYTHON).
set -euo pipefail
cd "$(dirname "$0")"
FILES=../crates/i2-formats/tests/fixtures/files
PKG=${I2_CCP4I2_ROOT:?set I2_CCP4I2_ROOT to the installed ccp4i2 package (source /tmp/env.sh or scripts/test.sh)}
for t in mtz pdb mmcif seq asu dict; do mkdir -p corpus/$t; done
cp "$FILES"/sf_*.cif corpus/mmcif/
cp "$FILES"/dict_*.cif corpus/dict/
cp "$FILES"/aln_* corpus/seq/
cp "$PKG"/wrappers/chainsaw/test_data/1mzr_1a80.pir corpus/seq/
head -c 16000 "$PKG"/wrappers/chainsaw/test_data/1a80_A.pdb > corpus/pdb/1a80_head.pdb
head -c 16000 "$PKG"/pipelines/crank2/crank2/basiclib/mon_lib_list_basic.cif > corpus/dict/mon_lib_head.cif
printf '>P1;x\ndescription\nMKTAYIAKQR*\n' > corpus/seq/pir
printf '>a\nACDEFGHIK\n>b\nAC-EFGHIK\n' > corpus/seq/fasta
printf 'MKTAYIAKQRQISFVKSHF\n' > corpus/seq/plain
cat > corpus/asu/asu.xml <<'XML'
<?xml version="1.0"?>
<ccp4:ccp4i2 xmlns:ccp4="http://www.ccp4.ac.uk/ccp4ns"><ccp4i2_body><seqList>
<CAsuContentSeq><sequence>MKTAYIAKQR</sequence><nCopies>2</nCopies><polymerType>PROTEIN</polymerType>
<name>A</name><description>chain A</description></CAsuContentSeq>
</seqList></ccp4i2_body></ccp4:ccp4i2>
XML
if [ -n "${I2_TEST_PYTHON:-}" ]; then
  "$I2_TEST_PYTHON" - corpus/mtz/tiny.mtz <<'PY'
import sys, gemmi, numpy as np
m = gemmi.Mtz(with_base=True)
m.spacegroup = gemmi.SpaceGroup('P 21 21 21')
m.set_cell_for_all(gemmi.UnitCell(40, 50, 60, 90, 90, 90))
m.add_dataset('x')
for label, kind in [('F', 'F'), ('SIGF', 'Q'), ('FREER', 'I')]:
    m.add_column(label, kind)
rows = [[h, k, l, 10.0 + h, 1.0, float((h + k) % 2)] for h in range(3) for k in range(2) for l in range(1, 3)]
m.set_data(np.array(rows, dtype=np.float32))
m.write_to_file(sys.argv[1])
PY
else
  echo "I2_TEST_PYTHON not set: no MTZ seed (the mtz target starts from an empty corpus)" >&2
fi
ls corpus/*
