#!/usr/bin/env python3
"""Compare two databases' schemas (and seed rows) for i2server / upstream CCP4i2 compatibility.

Usage:
    compare_schema.py sqlite A.sqlite3 B.sqlite3
    compare_schema.py postgres URL_A URL_B
    options: --ignore-table NAME (repeatable; `_sqlx_migrations` and i2server's own `i2_*` tables are always ignored)
             --no-data  (skip the seed-row comparison)

Compares: tables; columns (position, declared type, NOT NULL, default, primary-key membership,
identity/autoincrement behaviour); primary keys; unique constraints and indexes (by column list,
names ignored); other indexes (by definition, names ignored); foreign keys (by columns -> table,
columns, plus ON DELETE/ON UPDATE and deferrability); check constraints (normalised expression);
and row contents of the seed tables. Prints every difference, then
`schema: N differences (M tables)`; exit status 1 if N > 0, 2 on usage errors.
"""

import re
import sys

ALWAYS_IGNORED = {"_sqlx_migrations"}


class Ignored(set):
    """Ignored table names; i2server's own `i2_*` tables are never part of the comparison."""

    def __contains__(self, name):
        return name.startswith("i2_") or set.__contains__(self, name)

# (table, key columns, value columns) -- compared as sets of rows keyed by the key columns
SEED_TABLES = [
    ("ccp4i2_filetype", ("name",), ("description",)),
    ("ccp4i2_jobvaluekey", ("name",), ("description",)),
    ("django_migrations", ("app", "name"), ()),
    ("django_content_type", ("id",), ("app_label", "model")),
    ("auth_permission", ("id",), ("content_type_id", "codename", "name")),
]


def norm_expr(text):
    """Normalise an SQL expression for comparison: no quotes, no whitespace, lower case."""
    return re.sub(r"\s+", "", text.replace('"', "")).lower()


# --------------------------------------------------------------------------------------------
# SQLite
# --------------------------------------------------------------------------------------------

def _balanced(text, start):
    """Return the substring inside the parenthesis that opens at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    return text[start + 1:]


def _split_top_level(body):
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _ident(tok):
    return tok.strip().strip('"`[]')


def introspect_sqlite(path, ignored):
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    tables = {}
    names = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for t in names:
        if t in ignored:
            continue
        sql = con.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (t,)).fetchone()[0]
        body = _balanced(sql, sql.index("("))
        defs = _split_top_level(body)
        info = {"columns": [], "pk": None, "indexes": set(), "fks": set(), "checks": set(), "options": set()}
        tail = sql[sql.rindex(")") + 1:].upper()
        for opt in ("WITHOUT ROWID", "STRICT"):
            if opt in tail:
                info["options"].add(opt)
        cols = list(con.execute(f'PRAGMA table_info("{t}")'))
        pkcols = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
        autoinc = bool(re.search(r"\bAUTOINCREMENT\b", sql, re.I))
        for cid, name, ctype, notnull, dflt, pk in cols:
            ident = ""
            if pk and len(pkcols) == 1 and ctype.strip().upper() == "INTEGER" and "WITHOUT ROWID" not in info["options"]:
                ident = "rowid-alias autoincrement" if autoinc else "rowid-alias"
            info["columns"].append({
                "name": name, "type": re.sub(r"\s+", " ", ctype.strip().lower()),
                "notnull": bool(notnull), "default": None if dflt is None else norm_expr(dflt),
                "pk": bool(pk), "identity": ident,
            })
        info["pk"] = tuple(pkcols)
        # indexes: unique constraints (origin u), explicit indexes (origin c), pk autoindex (origin pk)
        for _seq, iname, unique, origin, partial in con.execute(f'PRAGMA index_list("{t}")'):
            icols = tuple(r[2] if r[2] is not None else "<expr>" for r in
                          sorted(con.execute(f'PRAGMA index_xinfo("{iname}")'), key=lambda r: r[0]) if r[5])
            kind = {"pk": "primary-key index", "u": "unique constraint", "c": "unique index" if unique else "index"}[origin]
            where = ""
            if partial:
                isql = con.execute("SELECT sql FROM sqlite_master WHERE name=?", (iname,)).fetchone()[0] or ""
                m = re.search(r"\bWHERE\b(.*)$", isql, re.I | re.S)
                where = norm_expr(m.group(1)) if m else "?"
            info["indexes"].add((kind, icols, where))
        # foreign keys: pragma gives the structure; deferrability is parsed from the column definition
        fkrows = {}
        for fid, seq, rtable, frm, to, on_upd, on_del, match in con.execute(f'PRAGMA foreign_key_list("{t}")'):
            fkrows.setdefault(fid, {"from": [], "to": [], "table": rtable, "upd": on_upd, "del": on_del, "match": match})
            fkrows[fid]["from"].append(frm)
            fkrows[fid]["to"].append(to)
        for fk in fkrows.values():
            defer = "NOT DEFERRABLE"
            for d in defs:
                words = d.split(None, 1)
                if not words:
                    continue
                head = words[0].upper()
                if head == "FOREIGN" or head == "CONSTRAINT":
                    m = re.search(r"FOREIGN\s+KEY\s*\(([^)]*)\)", d, re.I)
                    owner = [_ident(x) for x in m.group(1).split(",")] if m else []
                else:
                    owner = [_ident(words[0])]
                if owner == fk["from"] and re.search(r"\bREFERENCES\b", d, re.I):
                    m = re.search(r"\b(NOT\s+)?DEFERRABLE(\s+INITIALLY\s+(DEFERRED|IMMEDIATE))?", d, re.I)
                    if m:
                        defer = re.sub(r"\s+", " ", m.group(0).upper())
            info["fks"].add((tuple(fk["from"]), fk["table"], tuple(fk["to"]),
                             "ON DELETE " + fk["del"], "ON UPDATE " + fk["upd"], defer))
        for d in defs:
            for m in re.finditer(r"\bCHECK\s*\(", d, re.I):
                info["checks"].add(norm_expr(_balanced(d, m.end() - 1)))
        tables[t] = info
    # other objects
    others = set()
    for typ, name, tbl in con.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('view','trigger')"):
        if tbl not in ignored:
            others.add(f"{typ} on {tbl}")
    return con, tables, others


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------

FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def introspect_postgres(url, ignored):
    import psycopg2

    con = psycopg2.connect(url)
    con.set_session(readonly=True, autocommit=True)
    cur = con.cursor()
    cur.execute("SELECT current_schema()")
    schema = cur.fetchone()[0]
    cur.execute("""SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = %s AND c.relkind IN ('r','p') ORDER BY c.relname""", (schema,))
    tables = {}
    for oid, t in cur.fetchall():
        if t in ignored:
            continue
        info = {"columns": [], "pk": None, "indexes": set(), "fks": set(), "checks": set(), "options": set()}
        cur.execute("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                   s.seqtypid::regtype::text, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            LEFT JOIN pg_depend dep ON dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
                 AND dep.classid = 'pg_class'::regclass AND dep.deptype IN ('i','a')
                 AND EXISTS (SELECT 1 FROM pg_class sc WHERE sc.oid = dep.objid AND sc.relkind = 'S')
            LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid
            WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""", (oid,))
        cols = cur.fetchall()
        cur.execute("""SELECT array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)
                       FROM pg_constraint con WHERE con.conrelid = %s AND con.contype = 'p'""", (oid,))
        row = cur.fetchone()
        pkcols = tuple(row[0]) if row else ()
        info["pk"] = pkcols
        for name, ctype, notnull, dflt, identity, generated, styp, sstart, sinc, smin, smax, scache, scycle in cols:
            ident = ""
            if identity:
                ident = {"d": "identity by default", "a": "identity always"}[identity]
            elif dflt and "nextval(" in dflt:
                ident = "serial"
            if styp:
                ident += f" seq({styp} start {sstart} inc {sinc} min {smin} max {smax} cache {scache}{' cycle' if scycle else ''})"
            if dflt:
                dflt = re.sub(r"nextval\('[^']*'::regclass\)", "nextval(<seq>)", dflt)
            if generated:
                ident += f" generated({generated})"
            info["columns"].append({"name": name, "type": ctype, "notnull": bool(notnull),
                                    "default": None if dflt is None else norm_expr(dflt),
                                    "pk": name in pkcols, "identity": ident.strip()})
        cur.execute("""
            SELECT con.contype, pg_get_constraintdef(con.oid),
                   array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
                   rc.relname,
                   array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
                   con.confdeltype, con.confupdtype, con.condeferrable, con.condeferred, con.confmatchtype,
                   con.conindid
            FROM pg_constraint con LEFT JOIN pg_class rc ON rc.oid = con.confrelid
            WHERE con.conrelid = %s""", (oid,))
        constraint_indexes = set()
        for contype, cdef, ccols, rtable, rcols, deltype, updtype, deferrable, deferred, match, indid in cur.fetchall():
            if contype == "p":
                info["indexes"].add(("primary-key index", tuple(ccols), ""))
                constraint_indexes.add(indid)
            elif contype == "u":
                info["indexes"].add(("unique constraint", tuple(ccols), norm_expr(cdef)))
                constraint_indexes.add(indid)
            elif contype == "f":
                defer = "NOT DEFERRABLE" if not deferrable else (
                    "DEFERRABLE INITIALLY DEFERRED" if deferred else "DEFERRABLE INITIALLY IMMEDIATE")
                info["fks"].add((tuple(ccols), rtable, tuple(rcols), "ON DELETE " + FK_ACTIONS[deltype],
                                 "ON UPDATE " + FK_ACTIONS[updtype], defer + ("" if match == "s" else f" MATCH {match}")))
            elif contype == "c":
                info["checks"].add(norm_expr(cdef))
            elif contype == "x":
                info["indexes"].add(("exclusion constraint", tuple(ccols), norm_expr(cdef)))
                constraint_indexes.add(indid)
        cur.execute("""SELECT i.indexrelid, i.indisunique, pg_get_indexdef(i.indexrelid),
                              array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
                                    LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
                       FROM pg_index i WHERE i.indrelid = %s""", (oid,))
        for indid, unique, idef, icols in cur.fetchall():
            if indid in constraint_indexes:
                continue
            body = re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ ", "", idef)
            kind = "unique index" if unique else "index"
            info["indexes"].add((kind, tuple(c or "<expr>" for c in icols), norm_expr(body)))
        cur.execute("SELECT relpersistence, relkind FROM pg_class WHERE oid = %s", (oid,))
        persistence, relkind = cur.fetchone()
        if persistence != "p":
            info["options"].add(f"persistence={persistence}")
        if relkind == "p":
            info["options"].add("partitioned")
        tables[t] = info
    others = set()
    cur.execute("""SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = %s AND c.relkind IN ('v','m')""", (schema,))
    others |= {f"view {r[1]}" for r in cur.fetchall()}
    cur.execute("""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = %s AND c.relkind = 'S' AND NOT EXISTS (
                     SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a','i')
                       AND d.refobjsubid > 0)""", (schema,))
    others |= {f"free-standing sequence {r[0]}" for r in cur.fetchall()}
    cur.execute("""SELECT tc.relname, t.tgname FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid
                   JOIN pg_namespace n ON n.oid = tc.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal""",
                (schema,))
    others |= {f"trigger on {r[0]}" for r in cur.fetchall() if r[0] not in ignored}
    cur.execute("""SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = %s AND t.typtype IN ('e','d')""", (schema,))
    others |= {f"type {r[0]}" for r in cur.fetchall()}
    return con, tables, others


def pg_sequence_problems(con, tables):
    """Identity sequences whose next value would collide with an existing id."""
    problems = []
    cur = con.cursor()
    for t, info in tables.items():
        for c in info["columns"]:
            if not c["identity"].startswith(("identity", "serial")):
                continue
            cur.execute("SELECT pg_get_serial_sequence(%s, %s)", (f'"{t}"', c["name"]))
            seq = cur.fetchone()[0]
            if not seq:
                continue
            cur.execute(f"SELECT last_value, is_called FROM {seq}")
            last, called = cur.fetchone()
            nxt = last + 1 if called else last
            cur.execute(f'SELECT max("{c["name"]}") FROM "{t}"')
            mx = cur.fetchone()[0]
            if mx is not None and nxt <= mx:
                problems.append(f"{t}.{c['name']}: identity sequence would next yield {nxt} but max id is {mx}")
    return problems


# --------------------------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------------------------

def fetch_rows(con, table, key, vals, tables):
    if table not in tables:
        return None
    cols = [c["name"] for c in tables[table]["columns"]]
    if any(k not in cols for k in key + vals):
        return None
    cur = con.cursor()
    cur.execute("SELECT {} FROM {}".format(", ".join(f'"{c}"' for c in key + vals), f'"{table}"'))
    return {tuple(r[:len(key)]): tuple(r[len(key):]) for r in cur.fetchall()}


def compare(a, b, label_a, label_b, check_data=True, extra_problems=()):
    con_a, ta, oa = a
    con_b, tb, ob = b
    diffs = []

    def d(msg):
        diffs.append(msg)
        print(msg)

    for t in sorted(set(ta) - set(tb)):
        d(f"table {t}: only in {label_a}")
    for t in sorted(set(tb) - set(ta)):
        d(f"table {t}: only in {label_b}")
    for t in sorted(set(ta) & set(tb)):
        A, B = ta[t], tb[t]
        ca = {c["name"]: c for c in A["columns"]}
        cb = {c["name"]: c for c in B["columns"]}
        for c in [c for c in ca if c not in cb]:
            d(f"{t}.{c}: column only in {label_a}")
        for c in [c for c in cb if c not in ca]:
            d(f"{t}.{c}: column only in {label_b}")
        for c in [c for c in ca if c in cb]:
            for prop in ("type", "notnull", "default", "pk", "identity"):
                if ca[c][prop] != cb[c][prop]:
                    d(f"{t}.{c}: {prop} {ca[c][prop]!r} ({label_a}) vs {cb[c][prop]!r} ({label_b})")
        order_a = [c for c in ca if c in cb]
        order_b = [c for c in cb if c in ca]
        if order_a != order_b:
            d(f"{t}: column order {order_a} ({label_a}) vs {order_b} ({label_b})")
        if A["pk"] != B["pk"]:
            d(f"{t}: primary key {A['pk']} ({label_a}) vs {B['pk']} ({label_b})")
        for key, what in (("indexes", "index/unique"), ("fks", "foreign key"), ("checks", "check"),
                          ("options", "table option")):
            for x in sorted(A[key] - B[key], key=repr):
                d(f"{t}: {what} {x} only in {label_a}")
            for x in sorted(B[key] - A[key], key=repr):
                d(f"{t}: {what} {x} only in {label_b}")
    for x in sorted(oa - ob):
        d(f"object {x}: only in {label_a}")
    for x in sorted(ob - oa):
        d(f"object {x}: only in {label_b}")
    if check_data:
        for table, key, vals in SEED_TABLES:
            ra = fetch_rows(con_a, table, key, vals, ta)
            rb = fetch_rows(con_b, table, key, vals, tb)
            if ra is None or rb is None:
                if (ra is None) != (rb is None):
                    d(f"rows {table}: not comparable (table/columns missing on one side)")
                continue
            for k in sorted(set(ra) - set(rb), key=repr):
                d(f"rows {table}: {k + ra[k]} only in {label_a}")
            for k in sorted(set(rb) - set(ra), key=repr):
                d(f"rows {table}: {k + rb[k]} only in {label_b}")
            for k in sorted(set(ra) & set(rb), key=repr):
                if ra[k] != rb[k]:
                    d(f"rows {table}: {k}: {ra[k]} ({label_a}) vs {rb[k]} ({label_b})")
    for p in extra_problems:
        d(p)
    return diffs, len(set(ta) | set(tb))


def main(argv):
    args, ignored, check_data = [], Ignored(ALWAYS_IGNORED), True
    it = iter(argv[1:])
    for arg in it:
        if arg == "--ignore-table":
            ignored.add(next(it, ""))
        elif arg == "--no-data":
            check_data = False
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(arg)
    if len(args) != 3 or args[0] not in ("sqlite", "postgres", "postgresql"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, x, y = args
    extra = []
    if mode == "sqlite":
        a, b = introspect_sqlite(x, ignored), introspect_sqlite(y, ignored)
    else:
        a, b = introspect_postgres(x, ignored), introspect_postgres(y, ignored)
        for label, db in (("A", a), ("B", b)):
            extra += [f"sequence ({label}): {p}" for p in pg_sequence_problems(db[0], db[1])]
    diffs, ntables = compare(a, b, "A", "B", check_data, extra)
    print(f"schema: {len(diffs)} differences ({ntables} tables)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
