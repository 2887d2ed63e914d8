"""The DCAT catalogue's builders, each on its own: given one resource or file, the triples it
should make and no others."""

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS
from rdflib.namespace import XSD as XSD_

from flows.outputs.dcat import (
    EU,
    SPDX,
    Shared,
    add_checksum,
    add_contact,
    add_distribution,
    add_period,
    new_graph,
    themes,
    typed,
)

BASE = "https://data.example.se/aneby/"
RESOURCE = {"name": "fordon", "title": "Fordon", "description": "Kommunens fordon.",
            "en": {"title": "Vehicles", "description": "The municipality's vehicles."},
            "path": "fordon/fordon.csv", "format": "csv", "mediatype": "text/csv",
            "bytes": 120, "hash": "sha256:" + "ab" * 32, "alternates": []}
PART = {"path": "fordon/fordon.del02.excel.csv", "format": "excel-csv", "mediatype": "text/csv",
        "bytes": 7, "hash": "sha256:" + "cd" * 32, "part": 2, "parts": 3}


def shared() -> Shared:
    return Shared(base=BASE, name="aneby", keywords=("aneby",), version="V1",
                  publisher=URIRef(f"{BASE}organisation"), contact=URIRef(f"{BASE}contact"),
                  license=URIRef("http://creativecommons.org/licenses/by/4.0/"),
                  language=URIRef(f"{EU}language/SWE"),
                  issued=Literal("2026-01-01", datatype=XSD_.date),
                  modified=Literal("2026-01-01T00:00:00Z", datatype=XSD_.dateTime))


def test_a_distribution_of_one_file_says_where_it_is_its_format_size_and_hash():
    graph, service = new_graph(), URIRef(f"{BASE}api")
    node = add_distribution(graph, shared(), RESOURCE, RESOURCE, service)
    assert node == URIRef(f"{BASE}dataset/fordon/csv")
    url = URIRef(f"{BASE}latest/fordon/fordon.csv")
    assert (node, RDF.type, DCAT.Distribution) in graph
    assert (node, DCAT.downloadURL, url) in graph and (node, DCAT.accessURL, url) in graph
    assert (node, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/text/csv")
            ) in graph
    assert (node, DCTERMS["format"], URIRef(f"{EU}file-type/CSV")) in graph
    assert graph.value(node, DCAT.byteSize) == Literal(120, datatype=XSD_.nonNegativeInteger)
    assert (node, DCAT.accessService, service) in graph
    assert (node, DCTERMS.conformsTo, URIRef(f"{BASE}latest/fordon/fordon.schema.json")) in graph
    checksum = graph.value(node, SPDX.checksum)
    assert graph.value(checksum, SPDX.checksumValue) == Literal("ab" * 32, datatype=XSD_.hexBinary)
    assert {str(o) for o in graph.objects(node, DCTERMS.title)} == {"Fordon (csv)",
                                                                    "Vehicles (csv)"}
    assert {(o.language, str(o)) for o in graph.objects(node, DCTERMS.description)} == {
        ("sv", "Kommunens fordon. Format: CSV, UTF-8, komma, punkt som decimaltecken."),
        ("en", "The municipality's vehicles. Format: CSV, UTF-8, comma, point decimals.")}


def test_a_file_in_parts_is_a_distribution_of_its_own_named_by_its_part():
    graph = new_graph()
    node = add_distribution(graph, shared(), RESOURCE, PART, URIRef(f"{BASE}api"))
    assert node == URIRef(f"{BASE}dataset/fordon/excel-csv-del02")
    assert {(o.language, str(o)) for o in graph.objects(node, DCTERMS.title)} == {
        ("sv", "Fordon (excel-csv, del 2/3)"), ("en", "Vehicles (excel-csv, part 2/3)")}


def test_a_checksum_is_sha256_with_the_hex_digest():
    graph = Graph()
    node = add_checksum(graph, "00ff")
    assert isinstance(node, BNode)
    assert set(graph.predicate_objects(node)) == {
        (RDF.type, SPDX.Checksum),
        (SPDX.algorithm, URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")),
        (SPDX.checksumValue, Literal("00ff", datatype=XSD_.hexBinary))}


def test_an_eu_authority_entry_is_a_concept_in_its_scheme_with_both_labels():
    graph = Graph()
    node = typed(graph, f"{EU}frequency/ANNUAL", DCTERMS.Frequency)
    assert (node, RDF.type, SKOS.Concept) in graph
    assert (node, SKOS.inScheme, URIRef(f"{EU}frequency")) in graph
    assert {(o.language, str(o)) for o in graph.objects(node, SKOS.prefLabel)} == {
        ("sv", "årlig"), ("en", "annual")}
    other = typed(graph, f"{BASE}api/", DCTERMS.Standard)  # not an EU entry: its type only
    assert list(graph.predicate_objects(other)) == [(RDF.type, DCTERMS.Standard)]


def test_a_contact_point_is_an_organisation_with_an_email():
    graph = Graph()
    node = add_contact(graph, BASE, "Aneby kommun", "mailto:kontakt@example.se")
    assert node == URIRef(f"{BASE}contact")
    assert str(graph.value(node, URIRef("http://www.w3.org/2006/vcard/ns#fn"))) == "Aneby kommun"
    assert graph.value(node, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == URIRef(
        "mailto:kontakt@example.se")


def test_themes_are_the_datasets_own_or_government():
    graph = Graph()
    assert themes(graph, "fordon") == [URIRef(f"{EU}data-theme/TRAN"),
                                       URIRef(f"{EU}data-theme/ENVI")]
    assert themes(graph, "okand") == [URIRef(f"{EU}data-theme/GOVE")]


def test_a_period_has_its_start_and_end_dates():
    graph = Graph()
    period = add_period(graph, "2019-01-01", "2022-12-31")
    assert graph.value(period, DCAT.startDate) == Literal("2019-01-01", datatype=XSD_.date)
    assert graph.value(period, DCAT.endDate) == Literal("2022-12-31", datatype=XSD_.date)
