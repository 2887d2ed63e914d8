"""nyckeltal_jamforelse: the municipality's key figures beside its Kolada comparison groups,
the country and every municipality, computed from kolada_varden and kolada_jamforelsegrupper.

For each key figure, year and gender that Kolada has a row for the municipality, and each
group that contains it:
- grupp_medel: the unweighted mean of the members' values, as Kolada computes a group's value;
  members without a value that year and gender are left out (grupp_antal counts the others);
- riket_varde: the country's value (0000);
- rang: the municipality's place among every municipality with a value (codes not starting
  with 00: the country and the regions are not ranked), 1 the best by the key figure's desired
  direction (onskad_riktning: highest first if ökande, lowest first if minskande); equal values
  share the best place of their tie;
- kvartil = ceil(4 * rang / antal_kommuner), farg as Kolada colours it: gron for the best
  quartile, rod for the worst, gul for the middle half.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTRY = "0000"
KEY = ["nyckeltal_id", "ar", "kon"]
COLOURS = {1: "gron", 2: "gul", 3: "gul", 4: "rod"}
COLUMNS = ["nyckeltal_id", "ar", "kon", "grupp_id", "grupp_namn", "kommun_id", "kommun_varde",
           "grupp_medel", "grupp_antal", "riket_varde", "rang", "antal_kommuner", "kvartil",
           "farg"]


def compare(values: pd.DataFrame, groups: pd.DataFrame, definitions: pd.DataFrame,
            municipality: str) -> pd.DataFrame:
    """The comparison rows, sorted by key figure, year, gender and group."""
    values = values[KEY + ["kommun_id", "varde"]].astype({"varde": "Float64"})
    own = values[values["kommun_id"] == municipality].rename(columns={"varde": "kommun_varde"})
    country = values[values["kommun_id"] == COUNTRY].drop(columns="kommun_id").rename(
        columns={"varde": "riket_varde"})
    ranked = _ranks(values, definitions)
    member = groups[groups["kommun_id"] == municipality][["grupp_id", "grupp_namn"]]
    means = _group_means(values, groups[groups["grupp_id"].isin(member["grupp_id"])])
    rows = (own.merge(member.drop_duplicates("grupp_id"), how="cross")
            .merge(means, on=KEY + ["grupp_id"], how="left")
            .merge(country, on=KEY, how="left")
            .merge(ranked, on=KEY + ["kommun_id"], how="left"))
    rows["grupp_antal"] = rows["grupp_antal"].fillna(0)
    quartile = np.ceil(4 * rows["rang"].astype("float") / rows["antal_kommuner"].astype("float"))
    rows["kvartil"] = pd.array(quartile, dtype="Float64").astype("Int64")
    rows["farg"] = rows["kvartil"].map(COLOURS, na_action="ignore").astype("string")
    return rows[COLUMNS].sort_values(["nyckeltal_id", "ar", "kon", "grupp_id"],
                                     ignore_index=True)


def _group_means(values: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Each group's unweighted mean and the number of members with a value."""
    known = values.dropna(subset=["varde"]).merge(groups[["grupp_id", "kommun_id"]],
                                                  on="kommun_id")
    means = known.groupby(KEY + ["grupp_id"], as_index=False).agg(
        grupp_medel=("varde", "mean"), grupp_antal=("varde", "size"))
    means["grupp_medel"] = means["grupp_medel"].astype("Float64").round(4)
    return means


def _ranks(values: pd.DataFrame, definitions: pd.DataFrame) -> pd.DataFrame:
    """Every municipality's rank (1 = best) and how many were ranked, per key figure, year and
    gender; key figures without a desired direction are not ranked."""
    direction = definitions.set_index("nyckeltal_id")["onskad_riktning"].astype("string")
    ranked = values[~values["kommun_id"].str.startswith("00")].dropna(subset=["varde"]).copy()
    ranked["riktning"] = ranked["nyckeltal_id"].map(direction)
    ranked = ranked[ranked["riktning"].isin(["ökande", "minskande"])]
    # the best value first: ökande ranks the negated value, so both directions rank ascending
    ranked["score"] = ranked["varde"].astype("float").where(
        ranked["riktning"] == "minskande", -ranked["varde"].astype("float"))
    by = ranked.groupby(KEY)["score"]
    ranked["rang"] = by.rank(method="min").astype("Int64")
    ranked["antal_kommuner"] = by.transform("size").astype("Int64")
    return ranked[KEY + ["kommun_id", "rang", "antal_kommuner"]]
