"""Chart geometry and chart data: line charts with several named series and a target line,
status bars labelled in the page's language, and each chart's data as RFC 4180 CSV."""

from flows.outputs.charts import (
    Series,
    Target,
    bar_chart,
    chart_csv,
    line_chart,
    number_text,
    status_bar,
)


def test_one_series_has_no_legend_and_reads_as_before():
    chart = line_chart(Series("varde", "Aneby", {2019: 4.0, 2020: None, 2021: 9.0}), "Besök", "st")
    assert chart["legend"] == [] and chart["target"] is None and chart["height"] == 140
    assert [d["year"] for d in chart["lines"][0]["dots"]] == [2019, 2021]
    assert chart["text"] == "Besök: 2019 4 st, 2021 9 st"
    assert chart["high"] == "9" and chart["low"] == "4"


def test_several_series_and_a_target_share_one_scale_and_a_legend():
    chart = line_chart([Series("varde", "Aneby", {2019: 10.0, 2020: 20.0}),
                        Series("riket", "Riket", {2020: 30.0, 2021: 25.0})],
                       "Andel", "%", target=Target(50.0, "Mål 2030"))
    assert chart["high"] == "50" and chart["low"] == "10"  # the target widens the scale
    plot_top, plot_bottom = 12, chart["axis"]["bottom"]
    assert chart["target"]["y"] == plot_top  # 50, the highest value, at the top
    assert chart["lines"][0]["dots"][0]["y"] == plot_bottom  # 10, the lowest, at the bottom
    assert chart["lines"][1]["dots"][0]["y"] == plot_top + (plot_bottom - plot_top) / 2  # 30
    assert [item["label"] for item in chart["legend"]] == ["Aneby", "Riket", "Mål 2030"]
    assert chart["height"] == 140 + 16 * 3
    assert len({(line["colour"], line["dash"]) for line in chart["lines"]}) == 2
    assert [y["year"] for y in chart["years"]] == [2019, 2020, 2021]
    assert chart["text"] == ("Andel: Aneby: 2019 10 %, 2020 20 %; Riket: 2020 30 %, 2021 25 %; "
                             "Mål 2030: 50 %")
    assert chart_csv(chart) == (b"ar,varde,riket,mal\r\n2019,10,,50\r\n2020,20,30,50\r\n"
                                b"2021,,25,50\r\n")


def test_a_chart_without_values_is_not_drawn():
    assert line_chart(Series("varde", "Aneby", {2019: None}), "Besök", "st") is None
    assert line_chart([], "Besök", "st") is None
    assert bar_chart({2019: None}, "Budget", "tkr") is None


def test_a_single_series_chart_csv_is_year_and_value():
    chart = line_chart(Series("varde", "Aneby", {2021: 2.5, 2019: 4.0}), "Besök", "st")
    assert chart_csv(chart) == b"ar,varde\r\n2019,4\r\n2021,2.5\r\n"


def test_status_bar_labels_come_from_the_given_translation():
    english = {"planerad": "planned", "pågående": "ongoing", "genomförd": "completed",
               "avbruten": "cancelled"}
    bar = status_bar({"planerad": 1, "pågående": 0, "genomförd": 3, "avbruten": 0}, english.get)
    assert bar["text"] == "planned 1, ongoing 0, completed 3, cancelled 0"
    assert [s["label"] for s in bar["segments"]] == ["planned", "completed"]
    assert chart_csv(bar) == ("status,antal\r\nplanerad,1\r\npågående,0\r\ngenomförd,3\r\n"
                              "avbruten,0\r\n").encode()


def test_bar_chart_csv_keeps_the_values_not_their_labels():
    chart = bar_chart({2020: -1250.5, 2019: 300.0}, "Avvikelse", "tkr")
    assert [b["label"] for b in chart["bars"]] == ["300", "-1 250,5"]
    assert chart_csv(chart) == b"ar,varde\r\n2019,300\r\n2020,-1250.5\r\n"
    assert number_text(-1250.5) == "-1 250,5"


def test_a_line_chart_with_a_target_draws_as_a_valid_svg_document():
    from xml.etree import ElementTree

    from flows.outputs.portal import environment, svg_document

    chart = line_chart([Series("varde", "Aneby", {2019: 10.0, 2020: 20.0}),
                        Series("riket", "Riket", {2019: 15.0, 2020: 18.0})],
                       "Andel <fossilfri>", "%", target=Target(40.0, "Mål"))
    drawn = environment().get_template("charts.html").module.line_svg(chart, "kpi-x", True)
    root = ElementTree.fromstring(svg_document(drawn).encode())
    svg = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{svg}svg" and root.get("viewBox") == "0 0 320 188"
    assert root.find(f"{svg}title").text == "Andel <fossilfri>"  # escaped in the file
    assert len(root.findall(f"{svg}polyline")) == 2
    legend = [t.text for t in root.findall(f"{svg}text")][-3:]
    assert legend == ["Aneby", "Riket", "Mål"]
    dashed = [line for line in root.findall(f"{svg}line") if line.get("stroke-dasharray")]
    assert any(line.find(f"{svg}title") is not None for line in dashed)  # the target line
