import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.checks.delivery import ROW, check_file
from flows.intake.discover import RawFile

HEADER = ("aktivitet_id,rapportar,mal_id,titel,beskrivning,forvaltning_id,status,startdatum,"
          "slutdatum,kostnad_tkr")
GOOD = "A020,2020,O1,Uppstart av Hälsocenter,Text,social,pågående,2020-02-01,,120.5"


def check(tmp_path, register, text, name="2020/social/aktiviteter.csv", report_type=None):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    year, department, file_name = name.split("/")
    stem, suffix = file_name.rsplit(".", 1)
    raw = RawFile(path=path, name=name, year=int(year), department=department,
                  report_type=report_type or stem, format=suffix)
    return check_file(raw, register)


def flat(result):
    return [(p.row, p.field, p.type) for p in result.problems]


def test_a_valid_file_publishes_every_row_typed(tmp_path, register):
    result = check(tmp_path, register, f"{HEADER}\n{GOOD}\n")
    assert (result.rows_read, result.rows_published, result.rows_rejected) == (1, 1, 0)
    record = result.records[0]
    assert record["rapportar"] == 2020
    assert record["startdatum"] == dt.date(2020, 2, 1)
    assert float(record["kostnad_tkr"]) == 120.5
    assert record["slutdatum"] is None
    assert record[ROW] == 2


def test_each_bad_row_is_rejected_with_located_errors_and_the_rest_kept(tmp_path, register):
    text = "\n".join([
        HEADER,
        GOOD,
        "A021,2020,O9,Trygghetslarm,Text,social,klar,2020-13-01,,abc",
        "A020,2020,O1,Dubblett,Text,social,pågående,2020-02-01,,10",
        "A022,2019,O2,Fel år,Text,kommunledning,planerad,2020-05-01,2020-01-01,5",
        "",
        "A023,2020,O2,Extra,Text,social,planerad,2020-05-01,,5,extra",
        "A024,2020,O2,Kort",
        "A025,2020,O2,Okej rad,Text,social,avbruten,2020-05-01,2020-06-01,-1",
        "A026,2020,O2,Okej igen,Text,socal,genomförd,2020-05-01,2020-06-01,0",
    ]) + "\n"
    result = check(tmp_path, register, text)
    assert flat(result) == [
        (3, "status", "constraint-error"),
        (3, "startdatum", "type-error"),
        (3, "kostnad_tkr", "type-error"),
        (3, "mal_id", "foreign-key"),
        (4, "aktivitet_id,rapportar", "primary-key"),
        (5, "forvaltning_id", "department-mismatch"),
        (5, "rapportar", "year-mismatch"),
        (5, "slutdatum", "date-order"),
        (6, None, "blank-row"),
        (7, None, "extra-cell"),
        (8, "beskrivning", "missing-cell"),
        (8, "forvaltning_id", "missing-cell"),
        (8, "status", "missing-cell"),
        (8, "startdatum", "missing-cell"),
        (8, "slutdatum", "missing-cell"),
        (8, "kostnad_tkr", "missing-cell"),
        (9, "kostnad_tkr", "constraint-error"),
        (10, "forvaltning_id", "foreign-key"),
    ]
    assert [r[ROW] for r in result.records] == [2]
    assert result.rejected_rows == [3, 4, 5, 6, 7, 8, 9, 10]
    assert result.rows_read == result.rows_published + result.rows_rejected == 9
    by_row = {(p.row, p.field): p for p in result.problems}
    assert "Menade du 'planerad'?" in by_row[(3, "status")].message_sv
    assert "Did you mean 'O1'" in by_row[(3, "mal_id")].message_en \
        or "Did you mean 'O2'" in by_row[(3, "mal_id")].message_en
    assert "'social'" in by_row[(10, "forvaltning_id")].message_sv  # nearest code suggested
    assert by_row[(3, "startdatum")].value == "2020-13-01"
    assert "ÅÅÅÅ-MM-DD" in by_row[(3, "startdatum")].message_sv


def test_headers_match_whatever_the_case_spacing_and_order(tmp_path, register):
    header = ("Rapportar , AKTIVITET_ID,mal_id,titel,beskrivning,forvaltning_id,status,"
              "startdatum,slutdatum,kostnad_tkr")
    row = "2020,A020,O1,Uppstart av Hälsocenter,Text,social,pågående,2020-02-01,,1"
    result = check(tmp_path, register, f"{header}\n{row}\n")
    assert flat(result) == []
    assert result.records[0]["aktivitet_id"] == "A020"


def test_optional_columns_may_be_left_out(tmp_path, register):
    header = "aktivitet_id,rapportar,mal_id,titel,forvaltning_id,status"
    result = check(tmp_path, register, f"{header}\nA020,2020,O1,Hälsocenter,social,planerad\n")
    assert flat(result) == []
    assert result.records[0]["kostnad_tkr"] is None


def test_unknown_or_missing_required_columns_make_the_whole_file_wait(tmp_path, register):
    header = "aktivitet_id,mal_id,titel,forvaltning_id,status,ansvarig,titel"
    text = f"{header}\nA020,O1,Hälsocenter,social,planerad,Anna,x\nA021,O1,x,social,planerad,B,y\n"
    result = check(tmp_path, register, text)
    assert flat(result) == [(None, "ansvarig", "extra-label"), (None, "titel", "duplicate-label"),
                            (None, "rapportar", "missing-label")]
    assert result.file_rejected
    assert (result.rows_read, result.rows_published, result.rows_rejected) == (2, 0, 2)


def test_json_numbers_where_text_is_expected_are_checked_as_text(tmp_path, register):
    text = ('[{"nyckeltal_id": "N00090", "kommun_id": 604, "ar": 2020, "kon": "T", "varde": 7.5},'
            ' {"nyckeltal_id": "N00090", "kommun_id": "0604", "ar": 2020, "kon": "T",'
            ' "varde": 7.5}]')
    result = check(tmp_path, register, text, name="2020/kommunledning/nyckeltal.json")
    assert flat(result) == [(1, "kommun_id", "constraint-error")]
    assert result.rows_published == 1


def test_every_message_is_in_swedish_and_english(tmp_path, register):
    text = f"{HEADER}\nA021,2020,O9,T,Text,social,klar,2020-13-01,,abc\n"
    for p in check(tmp_path, register, text).problems:
        assert p.message_sv and p.message_en and p.message_sv != p.message_en
        assert p.file == "2020/social/aktiviteter.csv"


ROWS = st.lists(st.sampled_from(["good", "bad-type", "bad-enum", "blank", "short", "dup"]),
                max_size=25)


@settings(max_examples=40, deadline=None)
@given(kinds=ROWS)
def test_rows_read_always_equal_published_plus_rejected(tmp_path_factory, register, kinds):
    lines, expected_good = [HEADER], 0
    for n, kind in enumerate(kinds):
        ident = f"A{n:03d}"
        if kind == "good":
            expected_good += 1
            lines.append(f"{ident},2020,O1,Titel,Text,social,planerad,2020-01-01,,1")
        elif kind == "bad-type":
            lines.append(f"{ident},2020,O1,Titel,Text,social,planerad,20-01-01,,1")
        elif kind == "bad-enum":
            lines.append(f"{ident},2020,O1,Titel,Text,social,klar,2020-01-01,,1")
        elif kind == "blank":
            lines.append(",,,,,,,,,")
        elif kind == "short":
            lines.append(f"{ident},2020,O1")
        else:
            lines.append("A999,2020,O1,Titel,Text,social,planerad,2020-01-01,,1")
    if "dup" in kinds:
        expected_good += 1  # the first A999 is kept, later ones are duplicates
    tmp = tmp_path_factory.mktemp("prop")
    result = check(tmp, register, "\n".join(lines) + "\n")
    assert result.rows_read == len(kinds)
    assert result.rows_read == result.rows_published + result.rows_rejected
    assert result.rows_published == expected_good
    assert len(set(result.rejected_rows)) == result.rows_rejected
    assert all(any(p.row == r for p in result.problems) for r in result.rejected_rows)
