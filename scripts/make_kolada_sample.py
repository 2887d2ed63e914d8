"""Seeded generator of the illustrative Kolada deliveries in raw/ (invented values, invented
municipality codes 9001-9277): python scripts/make_kolada_sample.py rewrites them byte for byte."""
import csv
import glob
import json
from pathlib import Path

import numpy as np

RAW = Path(__file__).resolve().parent.parent / "raw"
COUNTY = {"0604": "Aneby", "0617": "Gnosjö", "0642": "Mullsjö", "0643": "Habo", "0662": "Gislaved",
          "0665": "Vaggeryd", "0680": "Jönköping", "0682": "Nässjö", "0683": "Värnamo",
          "0684": "Sävsjö", "0685": "Vetlanda", "0686": "Eksjö", "0687": "Tranås"}
HIGHLAND = ["0604", "0682", "0684", "0685", "0686"]
OTHERS = [f"{9000 + i:04d}" for i in range(1, 278)]
ALL = sorted(COUNTY) + OTHERS
assert len(ALL) == 290
YEARS = [2019, 2020, 2021]
KPIS = ["N00090", "N00097", "N00999", "N01951", "N03107", "N03935", "N03937", "U00200", "U07451"]
INTEGER = {"N01951", "N03107", "U00200", "U07451"}

aneby = {}
for path in glob.glob(str(RAW / "*/*/nyckeltal.csv")):
    for row in csv.DictReader(open(path, encoding="utf-8")):
        if row["kommun_id"] == "0604" and row["nyckeltal_id"] in KPIS and row["varde"]:
            aneby[(row["nyckeltal_id"], int(row["ar"]), row["kon"])] = float(row["varde"])
for path in glob.glob(str(RAW / "*/*/nyckeltal.json")):
    for row in json.load(open(path, encoding="utf-8")):
        if row["kommun_id"] == "0604" and row["nyckeltal_id"] in KPIS and row["varde"] is not None:
            aneby[(row["nyckeltal_id"], int(row["ar"]), row["kon"])] = float(row["varde"])

rng = np.random.default_rng(604)
def rounded(kpi, x):
    return int(round(x)) if kpi in INTEGER else round(float(x), 1)

for year in YEARS:
    entries = []
    for kpi in KPIS:
        base = aneby.get((kpi, year, "T"))
        if base is None:
            continue
        genders = sorted({g for (k, y, g) in aneby if k == kpi and y == year})
        spread = 1500 if kpi == "N03107" else abs(base) * 0.25
        if kpi == "N01951":
            level = rng.lognormal(np.log(15000), 0.9, len(ALL))
        else:
            level = base * rng.uniform(0.9, 1.1) + rng.normal(0, spread, len(ALL))
            if kpi != "N03107":
                level = np.abs(level)
        for code, value in zip(ALL, level, strict=True):
            if code == "0604":
                items = [{"gender": g, "count": 1, "status": "", "value": aneby[(kpi, year, g)]}
                         for g in genders]
            else:
                t = rounded(kpi, value)
                items = [{"gender": "T", "count": 1, "status": "", "value": t}]
                if code in COUNTY and len(genders) > 1:
                    ratio = aneby[(kpi, year, "K")] / base
                    k = rounded(kpi, t * ratio * rng.uniform(0.95, 1.05))
                    m = rounded(kpi, t * (2 - ratio) * rng.uniform(0.95, 1.05)) \
                        if kpi != "N01951" else t - k
                    items = [{"gender": "K", "count": 1, "status": "", "value": k},
                             {"gender": "M", "count": 1, "status": "", "value": m}] + items
            if code == "9013" and kpi == "U07451":  # an illustrative gap: Kolada has no value
                items = [{"gender": "T", "count": 0, "status": "", "value": None}]
            entries.append({"kpi": kpi, "municipality": code, "period": year, "values": items})
        country = np.mean(level) if kpi != "N01951" else np.sum(level)
        items = [{"gender": "T", "count": 1, "status": "", "value": rounded(kpi, country)}]
        if len(genders) > 1:
            ratio = aneby[(kpi, year, "K")] / base
            k = rounded(kpi, country * ratio)
            m = rounded(kpi, country * (2 - ratio)) if kpi != "N01951" else items[0]["value"] - k
            items = [{"gender": "K", "count": 1, "status": "", "value": k},
                     {"gender": "M", "count": 1, "status": "", "value": m}] + items
        entries.append({"kpi": kpi, "municipality": "0000", "period": year, "values": items})
    entries.sort(key=lambda e: (e["kpi"], e["municipality"]))
    out = RAW / str(year) / "kommunledning" / "kolada_varden.json"
    lines = ",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in entries)
    out.write_text(f'{{"count":{len(entries)},"values":[\n{lines}\n]}}\n', encoding="utf-8")
    print(out, out.stat().st_size, len(entries))

groups = [
    {"id": "G168177", "title": "Höglandskommunerna (ovägt medel)",
     "members": [{"id": c, "title": COUNTY[c]} for c in HIGHLAND]},
    {"id": "G33616", "title": "Jönköpings läns kommuner (ovägt medel)",
     "members": [{"id": c, "title": n} for c, n in sorted(COUNTY.items())]},
]
out = RAW / "2021" / "kommunledning" / "kolada_jamforelsegrupper.json"
out.write_text(json.dumps({"count": len(groups), "values": groups}, ensure_ascii=False,
                          separators=(",", ":")) + "\n", encoding="utf-8")
print(out, out.stat().st_size)
