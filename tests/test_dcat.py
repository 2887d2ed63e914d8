"""The DCAT-AP-SE catalogue passes the DCAT-AP 3.0.1 SHACL shapes with DIGG's Swedish additions
(tests skip where ../shared is absent), in all three serialisations."""

import datetime as dt

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from flows.core.settings import Settings
from flows.outputs.release import write_release
from flows.tables.datasets import build_tables

from conftest import SHARED

pytestmark = pytest.mark.slow  # whole releases

SHAPES = SHARED / "reference" / "dcat-ap-shacl"
MANDATORY = ["semiceu-dcat-ap-3.0.1/html__shacl__shapes.ttl",
             "semiceu-dcat-ap-3.0.1/html__shacl__range.ttl",
             "semiceu-dcat-ap-3.0.1/html__shacl__mdr-vocabularies.shape.ttl",
             "digg-dcat-ap-se-processor-branch/dcat-ap-SHACL.ttl",
             "digg-dcat-ap-se-processor-branch/dcat-ap-se-additions.ttl"]
BASE = "https://data.example.se/aneby/"


@pytest.fixture(scope="module")
def release(tmp_path_factory, register):
    out = tmp_path_factory.mktemp("dcat")
    settings = Settings(base_url=BASE, contact_email="mailto:kontakt@example.se")
    return write_release(build_tables([], register), register, out, settings=settings,
                         now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_catalog_passes_the_dcat_ap_se_shapes(release):
    if not SHAPES.exists():
        pytest.skip("../shared/reference/dcat-ap-shacl is not here")
    from pyshacl import validate

    shapes = Graph()
    for name in MANDATORY:
        shapes.parse(SHAPES / name, format="turtle")
    data = Graph().parse(release.path / "catalog.rdf", format="xml")
    # warnings are recommendations (e.g. a publisher from the EU corporate-body list, which a
    # Swedish municipality is not in); every violation fails
    conforms, _, text = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text[:3000]


def test_the_three_serialisations_hold_the_same_graph(release):
    rdf = Graph().parse(release.path / "catalog.rdf", format="xml")
    assert isomorphic(rdf, Graph().parse(release.path / "catalog.ttl", format="turtle"))
    assert isomorphic(rdf, Graph().parse(release.path / "catalog.jsonld", format="json-ld"))


def test_main_nodes_have_absolute_iris_under_the_base_url(release, register):
    graph = Graph().parse(release.path / "catalog.rdf", format="xml")
    for kind in (DCAT.Catalog, DCAT.Dataset, DCAT.Distribution, FOAF.Agent, DCAT.DataService):
        nodes = list(graph.subjects(RDF.type, kind))
        assert nodes, kind
        for node in nodes:
            assert isinstance(node, URIRef) and not isinstance(node, BNode)
            assert str(node).startswith(BASE), node
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == len(register.published)
    for dataset in datasets:
        titles = {t.language for t in graph.objects(dataset, DCTERMS.title)}
        assert titles == {"sv", "en"}
        assert len(list(graph.objects(dataset, DCAT.distribution))) == 5
        contact = graph.value(dataset, DCAT.contactPoint)
        assert isinstance(contact, URIRef)
    for distribution in graph.subjects(RDF.type, DCAT.Distribution):
        url = str(graph.value(distribution, DCAT.downloadURL))
        relative = url.removeprefix(f"{BASE}latest/")
        assert (release.path / relative).is_file(), url
