"""Batch oracle for diffref_test.go: hashes documents with GS1's reference
implementation (RalphTro/epcis-event-hash-generator, checked out at
$EPCIS_REFERENCE_DIR). usage: oracle.py IN.json OUT.json

IN is a JSON array of EPCIS documents; OUT gets, per document, either
{"prehashes": [pre-hash string or null per event]} or {"error": "..."}.
Each document is processed alone (the reference keeps namespaces in a
module-level dict, so they are cleared in between), and the entries of
bizTransactionList/sourceList/destinationList are given type first.
"""
import sys, os, json, logging, collections
logging.disable(logging.CRITICAL)
sys.path.insert(0, os.environ['EPCIS_REFERENCE_DIR'])
from epcis_event_hash_generator import json_to_py, hash_generator
def reorder(o):
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            if k in ('bizTransactionList', 'sourceList', 'destinationList') and isinstance(v, list):
                v = [dict(sorted(e.items(), key=lambda kv: kv[0] != 'type')) if isinstance(e, dict) else e for e in v]
            out[k] = reorder(v)
        return out
    if isinstance(o, list):
        return [reorder(x) for x in o]
    return o
docs = json.load(open(sys.argv[1]))
out = []
errs = collections.Counter()
for d in docs:
    json_to_py._namespaces.clear()
    d = reorder(d)
    try:
        ev = json_to_py.event_list_from_epcis_document_str(json.dumps(d))
        pre = []
        for e in ev[2]:
            try:
                p = hash_generator.derive_prehashes_from_events(("EventList", "", [e]))
                pre += p if p else [None]
            except Exception as ex:
                pass
        out.append({"prehashes": pre})
    except Exception as e:
        errs[repr(e)[:80]] += 1
        out.append({"error": repr(e)})
json.dump(out, open(sys.argv[2], 'w'))
print(errs, file=sys.stderr)
