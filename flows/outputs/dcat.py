"""The DCAT-AP-SE 3.0.1 catalogue of a release, for Sveriges dataportal (RDF/XML from one URL)
and other harvesters (Turtle, JSON-LD). Built with rdflib; every catalogue, dataset,
distribution, publisher and contact point has an absolute IRI under the configured base URL."""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

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
FORMAT_TEXT = {
    "csv": ("CSV, UTF-8, komma, punkt som decimaltecken", "CSV, UTF-8, comma, point decimals"),
    "excel-csv": ("CSV för svensk Excel: UTF-8 med BOM, semikolon, decimalkomma",
                  "CSV for Swedish Excel: UTF-8 with BOM, semicolon, decimal comma"),
    "xlsx": ("Excel-arbetsbok", "Excel workbook"), "json": ("JSON, en lista av objekt",
                                                             "JSON, an array of objects"),
    "parquet": ("Apache Parquet", "Apache Parquet")}
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


def build_dcat(register: Register, base_url: str, version: str, created: str,
                  resources: list[dict[str, Any]], contact_email: str) -> Graph:
    base = base_url.rstrip("/") + "/"
    spec = register.package
    graph = Graph()
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("dcatap", DCATAP),
                              ("vcard", VCARD), ("spdx", SPDX), ("skos", SKOS)):
        graph.bind(prefix, namespace)

    def text(node: URIRef, predicate: URIRef, sv: str, en: str) -> None:
        graph.add((node, predicate, Literal(sv, lang="sv")))
        graph.add((node, predicate, Literal(en, lang="en")))

    def typed(iri: str, kind: URIRef) -> URIRef:
        node = URIRef(iri)
        graph.add((node, RDF.type, kind))
        if iri.startswith(EU):  # an EU authority table entry: a concept in its scheme
            graph.add((node, RDF.type, SKOS.Concept))
            graph.add((node, SKOS.inScheme, URIRef(iri.rsplit("/", 1)[0])))
            key = iri[len(EU):]
            if key in EU_LABELS:
                text(node, SKOS.prefLabel, *EU_LABELS[key])
        return node

    root = URIRef(f"{base}register")
    publisher = URIRef(f"{base}organisation")
    contact = URIRef(f"{base}contact")
    license_ = typed(LICENSES.get(spec.license["name"], spec.license.get("path", "")),
                     DCTERMS.LicenseDocument)
    language = typed(f"{EU}language/SWE", DCTERMS.LinguisticSystem)
    issued = Literal(created[:10], datatype=XSD.date)
    modified = Literal(created, datatype=XSD.dateTime)

    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(spec.publisher, lang="sv")))
    local_authority = typed("http://purl.org/adms/publishertype/LocalAuthority", SKOS.Concept)
    text(local_authority, SKOS.prefLabel, "Lokal myndighet", "Local authority")
    graph.add((publisher, DCTERMS.type, local_authority))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, VCARD.fn, Literal(spec.publisher, lang="sv")))
    graph.add((contact, VCARD.hasEmail, URIRef(contact_email)))

    graph.add((root, RDF.type, DCAT.Catalog))
    text(root, DCTERMS.title, spec.title.sv, spec.title.en)
    text(root, DCTERMS.description, spec.description.sv, spec.description.en)
    graph.add((root, DCTERMS.publisher, publisher))
    graph.add((root, DCTERMS.license, license_))
    graph.add((root, DCTERMS.language, language))
    graph.add((root, DCTERMS.issued, issued))
    graph.add((root, DCTERMS.modified, modified))
    graph.add((root, FOAF.homepage, typed(base, FOAF.Document)))
    taxonomy = URIRef(f"{EU}data-theme")
    graph.add((taxonomy, RDF.type, SKOS.ConceptScheme))
    text(taxonomy, DCTERMS.title, "Datateman", "Data themes")
    graph.add((root, DCAT.themeTaxonomy, taxonomy))

    service = URIRef(f"{base}api")
    graph.add((service, RDF.type, DCAT.DataService))
    text(service, DCTERMS.title, "API för öppna data (Datasette)", "Open data API (Datasette)")
    text(service, DCTERMS.description,
         "JSON-API, SQL-frågor och CSV-export över den senaste releasens SQLite-databas.",
         "JSON API, SQL queries and CSV export over the latest release's SQLite database.")
    graph.add((service, DCAT.endpointURL, typed(f"{base}api/", RDFS.Resource)))
    graph.add((service, DCTERMS.conformsTo, typed(
        "https://docs.datasette.io/en/stable/json_api.html", DCTERMS.Standard)))
    graph.add((service, DCAT.endpointDescription,
               typed(f"{base}api/-/metadata.json", RDFS.Resource)))
    for keyword in ("API", "Datasette", "SQL", *spec.keywords):
        graph.add((service, DCAT.keyword, Literal(keyword, lang="sv")))
    graph.add((service, DCTERMS.publisher, publisher))
    graph.add((service, DCTERMS.license, license_))
    graph.add((service, DCAT.contactPoint, contact))
    graph.add((root, DCAT.service, service))

    stable = typed(f"{EU}planned-availability/STABLE", SKOS.Concept)
    periodicity = typed(f"{EU}frequency/ANNUAL", DCTERMS.Frequency)
    access = typed(f"{EU}access-right/PUBLIC", DCTERMS.RightsStatement)
    sweden = typed(f"{EU}country/SWE", DCTERMS.Location)
    for resource in resources:
        dataset_id = resource["name"]
        dataset = URIRef(f"{base}dataset/{dataset_id}")
        graph.add((root, DCAT.dataset, dataset))
        graph.add((service, DCAT.servesDataset, dataset))
        graph.add((dataset, RDF.type, DCAT.Dataset))
        text(dataset, DCTERMS.title, resource["title"], resource["en"]["title"])
        text(dataset, DCTERMS.description, resource["description"],
             resource["en"]["description"])
        graph.add((dataset, DCTERMS.identifier, Literal(f"{spec.name}/{dataset_id}")))
        graph.add((dataset, DCTERMS.publisher, publisher))
        graph.add((dataset, DCAT.contactPoint, contact))
        graph.add((dataset, DCTERMS.language, language))
        graph.add((dataset, DCTERMS.accrualPeriodicity, periodicity))
        graph.add((dataset, DCTERMS.accessRights, access))
        graph.add((dataset, DCTERMS.spatial, sweden))
        graph.add((dataset, DCTERMS.issued, issued))
        graph.add((dataset, DCTERMS.modified, modified))
        graph.add((dataset, URIRef(f"{DCAT}version"), Literal(version)))  # DCAT 3
        for keyword in spec.keywords:
            graph.add((dataset, DCAT.keyword, Literal(keyword, lang="sv")))
        for theme in DATASET_THEMES.get(dataset_id, ["GOVE"]):
            concept = typed(f"{EU}data-theme/{theme}", SKOS.Concept)
            graph.add((dataset, DCAT.theme, concept))
            graph.add((service, DCAT.theme, concept))
        period = BNode()
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((period, DCAT.startDate, Literal("2019-01-01", datatype=XSD.date)))
        graph.add((period, DCAT.endDate, Literal("2022-12-31", datatype=XSD.date)))
        graph.add((dataset, DCTERMS.temporal, period))
        standard = typed(f"{base}latest/{dataset_id}/{dataset_id}.schema.json",
                         DCTERMS.Standard)
        graph.add((dataset, DCTERMS.conformsTo, standard))
        for item in [resource, *resource["alternates"]]:
            format_id = item.get("format", "csv")
            part = f"-del{item['part']:02d}" if item.get("part") else ""  # a file in parts
            shown = f"{format_id}, del {item['part']}/{item['parts']}" if part else format_id
            shown_en = f"{format_id}, part {item['part']}/{item['parts']}" if part else format_id
            distribution = URIRef(f"{base}dataset/{dataset_id}/{format_id}{part}")
            url = typed(f"{base}latest/{item['path']}", RDFS.Resource)
            graph.add((dataset, DCAT.distribution, distribution))
            graph.add((distribution, RDF.type, DCAT.Distribution))
            text(distribution, DCTERMS.title, f"{resource['title']} ({shown})",
                 f"{resource['en']['title']} ({shown_en})")
            text(distribution, DCTERMS.description,
                 f"{resource['description']} Format: {FORMAT_TEXT[format_id][0]}.",
                 f"{resource['en']['description']} Format: {FORMAT_TEXT[format_id][1]}.")
            graph.add((distribution, DCAT.accessURL, url))
            graph.add((distribution, DCAT.downloadURL, url))
            graph.add((distribution, DCAT.mediaType,
                       typed(f"{IANA}{item['mediatype']}", DCTERMS.MediaType)))
            graph.add((distribution, DCTERMS["format"],
                       typed(f"{EU}file-type/{FILE_TYPES[format_id]}",
                             DCTERMS.MediaTypeOrExtent)))
            graph.add((distribution, DCTERMS.license, license_))
            graph.add((distribution, DCTERMS.conformsTo, standard))
            graph.add((distribution, DCAT.byteSize,
                       Literal(item["bytes"], datatype=XSD.nonNegativeInteger)))
            checksum = BNode()
            graph.add((checksum, RDF.type, SPDX.Checksum))
            graph.add((checksum, SPDX.algorithm,
                       typed(SHA256, SPDX.ChecksumAlgorithm)))
            graph.add((checksum, SPDX.checksumValue,
                       Literal(item["hash"].split(":", 1)[1], datatype=XSD.hexBinary)))
            graph.add((distribution, SPDX.checksum, checksum))
            graph.add((distribution, DCAT.accessService, service))
            graph.add((distribution, DCATAP.availability, stable))
    return graph


def serialize(graph: Graph) -> dict[str, bytes]:
    """catalog.rdf (RDF/XML: what Sveriges dataportal harvests), catalog.ttl, catalog.jsonld."""
    return {"catalog.rdf": graph.serialize(format="pretty-xml", encoding="utf-8"),
            "catalog.ttl": graph.serialize(format="turtle", encoding="utf-8"),
            "catalog.jsonld": graph.serialize(format="json-ld", encoding="utf-8", indent=2)}
