"""The DCAT-AP-SE 3.0.1 catalogue of a release, for Sveriges dataportal (RDF/XML from one URL)
and other harvesters (Turtle, JSON-LD). Built with rdflib; every catalogue, dataset,
distribution, publisher and contact point has an absolute IRI under the configured base URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from flows.core.messages import Said, say
from flows.core.register import Register

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
EU = "http://publications.europa.eu/resource/authority/"
SHA256 = "https://spdx.org/rdf/terms#checksumAlgorithm_sha256"  # the IRI DCAT-AP 3 asks for
IANA = "https://www.iana.org/assignments/media-types/"
LICENSES = {"CC0-1.0": "http://creativecommons.org/publicdomain/zero/1.0/",
            "CC-BY-4.0": "http://creativecommons.org/licenses/by/4.0/"}
FILE_TYPES = {"csv": "CSV", "excel-csv": "CSV", "xlsx": "XLSX", "json": "JSON",
              "parquet": "PARQUET"}
EU_LABELS = {"language/SWE": ("svenska", "Swedish"), "country/SWE": ("Sverige", "Sweden"),
             "frequency/ANNUAL": ("årlig", "annual"),
             "access-right/PUBLIC": ("offentlig", "public"),
             "file-type/CSV": ("CSV", "CSV"), "file-type/XLSX": ("XLSX", "XLSX"),
             "file-type/JSON": ("JSON", "JSON"), "file-type/PARQUET": ("Parquet", "Parquet"),
             "planned-availability/STABLE": ("stabil", "stable"),
             "data-theme/GOVE": ("Regeringen och den offentliga sektorn",
                                 "Government and public sector"),
             "data-theme/ECON": ("Ekonomi och finans", "Economy and finance"),
             "data-theme/TRAN": ("Transport", "Transport"),
             "data-theme/ENVI": ("Miljö", "Environment"),
             "data-theme/SOCI": ("Befolkning och samhälle", "Population and society")}
DATASET_THEMES = {"ekonomi": ["ECON", "GOVE"], "budgetavvikelse": ["ECON", "GOVE"],  # else GOVE
                  "fordon": ["TRAN", "ENVI"], "fossilfri_andel_fordon": ["TRAN", "ENVI"],
                  "personal": ["GOVE", "SOCI"], "nyckeltal": ["GOVE", "SOCI"]}


@dataclass(frozen=True)
class Shared:
    """The nodes every part of the catalogue points at, made once per catalogue."""

    base: str  # the base URL, ending in "/"
    name: str  # the Data Package's name: datasets are identified as <name>/<dataset id>
    keywords: tuple[str, ...]
    version: str
    publisher: URIRef
    contact: URIRef
    license: URIRef
    language: URIRef
    issued: Literal
    modified: Literal


def build_dcat(register: Register, base_url: str, version: str, created: str,
               resources: list[dict[str, Any]], contact_email: str) -> Graph:
    """The catalogue of a release: its publisher and contact point, the catalogue, the API as a
    data service, and every resource as a dataset with one distribution per file."""
    spec = register.package
    graph = new_graph()
    shared = add_shared(graph, base_url.rstrip("/") + "/", spec, version, created, contact_email)
    root = add_catalogue(graph, shared, spec)
    service = add_service(graph, shared)
    graph.add((root, DCAT.service, service))
    for resource in resources:
        dataset = add_dataset(graph, shared, resource)
        graph.add((root, DCAT.dataset, dataset))
        graph.add((service, DCAT.servesDataset, dataset))
        for theme in themes(graph, resource["name"]):
            graph.add((service, DCAT.theme, theme))
        for item in [resource, *resource["alternates"]]:
            graph.add((dataset, DCAT.distribution,
                       add_distribution(graph, shared, resource, item, service)))
    return graph


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("dcatap", DCATAP),
                              ("vcard", VCARD), ("spdx", SPDX), ("skos", SKOS)):
        graph.bind(prefix, namespace)
    return graph


def add_text(graph: Graph, node: URIRef | BNode, predicate: URIRef, sv: str, en: str) -> None:
    """The same statement in Swedish and in English."""
    graph.add((node, predicate, Literal(sv, lang="sv")))
    graph.add((node, predicate, Literal(en, lang="en")))


def add_said(graph: Graph, node: URIRef, predicate: URIRef, key: str, **params: Any) -> None:
    said = say(key, **params)
    add_text(graph, node, predicate, said.sv, said.en)


def typed(graph: Graph, iri: str, kind: URIRef) -> URIRef:
    """A node of a type; an entry of an EU authority table is also a concept in its scheme,
    with its labels."""
    node = URIRef(iri)
    graph.add((node, RDF.type, kind))
    if iri.startswith(EU):
        graph.add((node, RDF.type, SKOS.Concept))
        graph.add((node, SKOS.inScheme, URIRef(iri.rsplit("/", 1)[0])))
        key = iri[len(EU):]
        if key in EU_LABELS:
            add_text(graph, node, SKOS.prefLabel, *EU_LABELS[key])
    return node


def add_shared(graph: Graph, base: str, spec: Any, version: str, created: str,
               contact_email: str) -> Shared:
    license_iri = LICENSES.get(spec.license["name"], spec.license.get("path", ""))
    return Shared(base=base, name=spec.name, keywords=tuple(spec.keywords), version=version,
                  publisher=add_publisher(graph, base, spec.publisher),
                  contact=add_contact(graph, base, spec.publisher, contact_email),
                  license=typed(graph, license_iri, DCTERMS.LicenseDocument),
                  language=typed(graph, f"{EU}language/SWE", DCTERMS.LinguisticSystem),
                  issued=Literal(created[:10], datatype=XSD.date),
                  modified=Literal(created, datatype=XSD.dateTime))


def add_publisher(graph: Graph, base: str, name: str) -> URIRef:
    """The publisher: an organisation of the type local authority."""
    publisher = URIRef(f"{base}organisation")
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(name, lang="sv")))
    local_authority = typed(graph, "http://purl.org/adms/publishertype/LocalAuthority", SKOS.Concept)
    add_said(graph, local_authority, SKOS.prefLabel, "dcat.local-authority")
    graph.add((publisher, DCTERMS.type, local_authority))
    return publisher


def add_contact(graph: Graph, base: str, name: str, email: str) -> URIRef:
    contact = URIRef(f"{base}contact")
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, VCARD.fn, Literal(name, lang="sv")))
    graph.add((contact, VCARD.hasEmail, URIRef(email)))
    return contact


def add_catalogue(graph: Graph, shared: Shared, spec: Any) -> URIRef:
    root = URIRef(f"{shared.base}register")
    graph.add((root, RDF.type, DCAT.Catalog))
    add_text(graph, root, DCTERMS.title, spec.title.sv, spec.title.en)
    add_text(graph, root, DCTERMS.description, spec.description.sv, spec.description.en)
    graph.add((root, DCTERMS.publisher, shared.publisher))
    graph.add((root, DCTERMS.license, shared.license))
    graph.add((root, DCTERMS.language, shared.language))
    graph.add((root, DCTERMS.issued, shared.issued))
    graph.add((root, DCTERMS.modified, shared.modified))
    graph.add((root, FOAF.homepage, typed(graph, shared.base, FOAF.Document)))
    taxonomy = URIRef(f"{EU}data-theme")
    graph.add((taxonomy, RDF.type, SKOS.ConceptScheme))
    add_said(graph, taxonomy, DCTERMS.title, "dcat.themes")
    graph.add((root, DCAT.themeTaxonomy, taxonomy))
    return root


def add_service(graph: Graph, shared: Shared) -> URIRef:
    """The Datasette API over the latest release's database, as a data service."""
    base = shared.base
    service = URIRef(f"{base}api")
    graph.add((service, RDF.type, DCAT.DataService))
    add_said(graph, service, DCTERMS.title, "dcat.service-title")
    add_said(graph, service, DCTERMS.description, "dcat.service-description")
    graph.add((service, DCAT.endpointURL, typed(graph, f"{base}api/", RDFS.Resource)))
    graph.add((service, DCTERMS.conformsTo, typed(
        graph, "https://docs.datasette.io/en/stable/json_api.html", DCTERMS.Standard)))
    graph.add((service, DCAT.endpointDescription,
               typed(graph, f"{base}api/-/metadata.json", RDFS.Resource)))
    for keyword in ("API", "Datasette", "SQL", *shared.keywords):
        graph.add((service, DCAT.keyword, Literal(keyword, lang="sv")))
    graph.add((service, DCTERMS.publisher, shared.publisher))
    graph.add((service, DCTERMS.license, shared.license))
    graph.add((service, DCAT.contactPoint, shared.contact))
    return service


def themes(graph: Graph, dataset_id: str) -> list[URIRef]:
    """The dataset's EU data themes (government and public sector unless it has its own)."""
    return [typed(graph, f"{EU}data-theme/{theme}", SKOS.Concept)
            for theme in DATASET_THEMES.get(dataset_id, ["GOVE"])]


def add_dataset(graph: Graph, shared: Shared, resource: dict[str, Any]) -> URIRef:
    """A resource of the Data Package as a dataset (its distributions are added apart)."""
    dataset_id = resource["name"]
    dataset = URIRef(f"{shared.base}dataset/{dataset_id}")
    graph.add((dataset, RDF.type, DCAT.Dataset))
    add_text(graph, dataset, DCTERMS.title, resource["title"], resource["en"]["title"])
    add_text(graph, dataset, DCTERMS.description, resource["description"],
             resource["en"]["description"])
    graph.add((dataset, DCTERMS.identifier, Literal(f"{shared.name}/{dataset_id}")))
    for predicate, value in ((DCTERMS.publisher, shared.publisher),
                             (DCAT.contactPoint, shared.contact),
                             (DCTERMS.language, shared.language),
                             (DCTERMS.accrualPeriodicity,
                              typed(graph, f"{EU}frequency/ANNUAL", DCTERMS.Frequency)),
                             (DCTERMS.accessRights,
                              typed(graph, f"{EU}access-right/PUBLIC", DCTERMS.RightsStatement)),
                             (DCTERMS.spatial, typed(graph, f"{EU}country/SWE", DCTERMS.Location)),
                             (DCTERMS.issued, shared.issued), (DCTERMS.modified, shared.modified),
                             (URIRef(f"{DCAT}version"), Literal(shared.version)),  # DCAT 3
                             (DCTERMS.temporal, add_period(graph, "2019-01-01", "2022-12-31")),
                             (DCTERMS.conformsTo, schema_standard(graph, shared, dataset_id))):
        graph.add((dataset, predicate, value))
    for keyword in shared.keywords:
        graph.add((dataset, DCAT.keyword, Literal(keyword, lang="sv")))
    for theme in themes(graph, dataset_id):
        graph.add((dataset, DCAT.theme, theme))
    return dataset


def add_period(graph: Graph, start: str, end: str) -> BNode:
    period = BNode()
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    graph.add((period, DCAT.startDate, Literal(start, datatype=XSD.date)))
    graph.add((period, DCAT.endDate, Literal(end, datatype=XSD.date)))
    return period


def schema_standard(graph: Graph, shared: Shared, dataset_id: str) -> URIRef:
    """The dataset's published Table Schema, which it and its distributions conform to."""
    return typed(graph, f"{shared.base}latest/{dataset_id}/{dataset_id}.schema.json",
                 DCTERMS.Standard)


def add_distribution(graph: Graph, shared: Shared, resource: dict[str, Any],
                     item: dict[str, Any], service: URIRef) -> URIRef:
    """One file of a dataset (the resource itself or one of its alternates) as a distribution:
    where to download it, its format, size and sha256."""
    dataset_id, format_id = resource["name"], item.get("format", "csv")
    part = f"-del{item['part']:02d}" if item.get("part") else ""  # a file in parts
    shown = say("dcat.part", format=format_id, part=item["part"], parts=item["parts"]) \
        if part else Said(format_id, format_id)
    described = say(f"dcat.format-{format_id}")
    distribution = URIRef(f"{shared.base}dataset/{dataset_id}/{format_id}{part}")
    url = typed(graph, f"{shared.base}latest/{item['path']}", RDFS.Resource)
    graph.add((distribution, RDF.type, DCAT.Distribution))
    add_text(graph, distribution, DCTERMS.title, f"{resource['title']} ({shown.sv})",
             f"{resource['en']['title']} ({shown.en})")
    add_text(graph, distribution, DCTERMS.description,
             f"{resource['description']} Format: {described.sv}.",
             f"{resource['en']['description']} Format: {described.en}.")
    for predicate, value in (
            (DCAT.accessURL, url), (DCAT.downloadURL, url),
            (DCAT.mediaType, typed(graph, f"{IANA}{item['mediatype']}", DCTERMS.MediaType)),
            (DCTERMS["format"], typed(graph, f"{EU}file-type/{FILE_TYPES[format_id]}",
                                      DCTERMS.MediaTypeOrExtent)),
            (DCTERMS.license, shared.license),
            (DCTERMS.conformsTo, schema_standard(graph, shared, dataset_id)),
            (DCAT.byteSize, Literal(item["bytes"], datatype=XSD.nonNegativeInteger)),
            (SPDX.checksum, add_checksum(graph, item["hash"].split(":", 1)[1])),
            (DCAT.accessService, service),
            (DCATAP.availability, typed(graph, f"{EU}planned-availability/STABLE", SKOS.Concept))):
        graph.add((distribution, predicate, value))
    return distribution


def add_checksum(graph: Graph, sha256_hex: str) -> BNode:
    checksum = BNode()
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, typed(graph, SHA256, SPDX.ChecksumAlgorithm)))
    graph.add((checksum, SPDX.checksumValue, Literal(sha256_hex, datatype=XSD.hexBinary)))
    return checksum


def serialize(graph: Graph) -> dict[str, bytes]:
    """catalog.rdf (RDF/XML: what Sveriges dataportal harvests), catalog.ttl, catalog.jsonld."""
    return {"catalog.rdf": graph.serialize(format="pretty-xml", encoding="utf-8"),
            "catalog.ttl": graph.serialize(format="turtle", encoding="utf-8"),
            "catalog.jsonld": graph.serialize(format="json-ld", encoding="utf-8", indent=2)}
