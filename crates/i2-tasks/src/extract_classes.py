"""Class-facts extraction, run once per installation by i2-tasks (`classes::generate_cache`).

Runs under the Python of the ccp4i2 installation being served. It instantiates each class the def.xml
parser knows and writes down observable facts: class name, module, JSON base class, kind, fresh
qualifiers, fresh scalar value, child order, and per child its class, qualifier changes and value.
i2-tasks rebuilds containers from these facts without Python; the result is cached per installation.

Usage: python - OUT.json PACKAGE_ROOT [PROTOTYPES.json] < extract_classes.py
PACKAGE_ROOT is the ccp4i2 package directory the facts must come from (checked after import).
The optional third file gets each class's full fresh JSON (for debugging).
"""
import json
import os
import sys

from ccp4i2.core.task_manager.def_xml_handler import DefXmlParser
from ccp4i2.lib.utils.containers.json_encoder import CCP4i2JsonEncoder, base_class
from ccp4i2.core.base_object.fundamental_types import CInt, CFloat, CString, CBoolean, CList


def enc(value):
    return json.loads(json.dumps(value, cls=CCP4i2JsonEncoder))


def quals(obj):
    q = getattr(obj, "_qualifiers", None) or {}
    return {k: enc(v) for k, v in q.items() if v is not NotImplemented}


def kind(obj):
    for k, t in (("int", CInt), ("float", CFloat), ("string", CString), ("bool", CBoolean), ("list", CList)):
        if isinstance(obj, t):
            return k
    return "data"


def scalar_value(obj):
    return enc(getattr(obj, "_value", None))


def facts(name, cls, registry):
    obj = cls()
    k = kind(obj)
    rec = {
        "module": cls.__module__,
        "base": base_class(obj),
        "kind": k,
        "mro": [c.__name__ for c in cls.__mro__ if c.__name__ not in ("object", "ABC", "HierarchicalObject")],
        "qualifiers": quals(obj),
    }
    if k in ("int", "float", "string", "bool"):
        rec["value"] = scalar_value(obj)
    elif k == "list":
        item = obj.makeItem()
        rec["item"] = {"class": type(item).__name__, "qualifiers": quals(item)}
    else:
        order = obj.dataOrder()
        children = []
        by_name = {c.objectName(): c for c in obj.children() if hasattr(c, "objectName")}
        for cname in order:
            child = by_name.get(cname) or getattr(obj, cname, None)
            if child is None:
                continue
            ccls = type(child).__name__
            fresh = quals(registry[ccls]()) if ccls in registry else {}
            cq = quals(child)
            delta = {kk: vv for kk, vv in cq.items() if kk not in fresh or fresh[kk] != vv}
            removed = [kk for kk in fresh if kk not in cq]
            entry = {"name": cname, "class": ccls}
            if delta:
                entry["qualifiers"] = delta
            if removed:
                entry["removed"] = removed
            if kind(child) in ("int", "float", "string", "bool"):
                entry["value"] = scalar_value(child)
            elif kind(child) == "list":
                item = child.makeItem()
                entry["item"] = {"class": type(item).__name__, "qualifiers": quals(item)}
            children.append(entry)
        rec["children"] = children
    return rec, enc(obj)


def main():
    import ccp4i2

    want = os.path.realpath(sys.argv[2])
    got = os.path.realpath(os.path.dirname(ccp4i2.__file__))
    if want != got:
        sys.exit(f"this Python imports ccp4i2 from {got}, not {want}")
    registry = dict(DefXmlParser().class_registry)
    out = {}
    protos = {}
    for name in sorted(registry):
        try:
            rec, proto = facts(name, registry[name], registry)
        except Exception as e:  # a class that cannot be built standalone is recorded as such
            out[name] = {"error": str(e)}
            continue
        out[name] = rec
        protos[name] = proto
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(out, f, indent=0, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w", encoding="utf-8") as f:
            json.dump(protos, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
