"""``mockserver serve --spec other.yaml``: any OpenAPI 3.1 document, validated, answered from examples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Served, ServeFactory, start_mockserver

PETSTORE = """\
openapi: 3.1.0
info:
  title: Petstore
  version: 1.0.0
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - name: limit
          in: query
          required: false
          schema: {type: integer, minimum: 1, maximum: 100}
      responses:
        '200':
          description: A page of pets
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Pet'}
              example:
                - {id: 1, name: Rex, tag: dog}
                - {id: 2, name: Tom, tag: cat}
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/NewPet'}
      responses:
        '201':
          description: Created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
              examples:
                created:
                  value: {id: 3, name: Polly, tag: parrot}
        '400':
          description: Invalid input
  /pets/{petId}:
    parameters:
      - name: petId
        in: path
        required: true
        schema: {type: integer, minimum: 1}
    get:
      operationId: showPetById
      responses:
        '200':
          description: One pet
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
    delete:
      operationId: deletePet
      responses:
        '204':
          description: Deleted
  /owners/{ownerId}:
    get:
      operationId: getOwner
      parameters:
        - name: ownerId
          in: path
          required: true
          schema: {type: string, format: uuid}
      responses:
        '200':
          description: An owner
          content:
            application/json:
              schema:
                type: object
                required: [id, email, since, pets]
                properties:
                  id: {type: string, format: uuid}
                  email: {type: string, format: email}
                  since: {type: string, format: date-time}
                  pets: {type: integer, minimum: 0}
                  status: {type: string, enum: [active, retired]}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, example: 42}
        name: {type: string, example: Fido}
        tag: {type: string}
    NewPet:
      type: object
      required: [name]
      additionalProperties: false
      properties:
        name: {type: string, minLength: 1}
        tag: {type: string, enum: [dog, cat, parrot]}
"""


@pytest.fixture(scope="module")
def petstore_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("petstore")
    spec = folder / "petstore.yaml"
    spec.write_text(PETSTORE, encoding="utf-8")
    served = start_mockserver(["--spec", str(spec)], folder / "mockserver.stderr")
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def petstore(petstore_server: Served) -> Served:
    """The module's Petstore mock, with an empty journal."""
    with petstore_server.control() as control:
        control.post("/__mock__/reset").raise_for_status()
    return petstore_server


def test_banner_names_the_spec_and_asks_for_no_algolia_credentials(petstore: Served) -> None:
    banner = petstore.stderr()
    assert "serving Petstore on" in banner
    assert "(5 operations)" in banner
    assert "x-algolia" not in banner
    assert "credentials" not in banner
    with petstore.control() as control:
        health = control.get("/__mock__/health").json()
    assert health == {"status": "ok", "spec": "Petstore", "operations": 5}


def test_answers_from_the_media_type_example_without_credentials(petstore: Served) -> None:
    with petstore.control() as client:  # no x-algolia-* headers at all
        response = client.get("/pets", params={"limit": 2})
    assert response.status_code == 200, response.text
    assert response.json() == [{"id": 1, "name": "Rex", "tag": "dog"}, {"id": 2, "name": "Tom", "tag": "cat"}]


def test_answers_from_named_examples_with_the_documented_status(petstore: Served) -> None:
    with petstore.control() as client:
        response = client.post("/pets", json={"name": "Polly", "tag": "parrot"})
    assert response.status_code == 201, response.text
    assert response.json() == {"id": 3, "name": "Polly", "tag": "parrot"}


def test_answers_from_the_schema_when_there_is_no_example(petstore: Served) -> None:
    with petstore.control() as client:
        pet = client.get("/pets/7")
        owner = client.get("/owners/6c02aeb1-775e-418e-870b-1faccd4b2c0f")
    assert pet.status_code == 200, pet.text
    assert pet.json() == {"id": 42, "name": "Fido"}  # required properties, from the schemas' examples
    assert owner.status_code == 200, owner.text
    body = owner.json()
    assert set(body) == {"id", "email", "since", "pets"}
    assert isinstance(body["id"], str) and len(body["id"]) == 36
    assert "@" in body["email"]
    assert body["since"].startswith("20")
    assert body["pets"] == 0


def test_no_content_answer(petstore: Served) -> None:
    with petstore.control() as client:
        response = client.delete("/pets/1")
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("method", "path", "body", "fragments"),
    [
        pytest.param("POST", "/pets", {"tag": "dog"}, ("body", "name"), id="missing-required"),
        pytest.param("POST", "/pets", {"name": 5}, ("body.name",), id="wrong-type"),
        pytest.param("POST", "/pets", {"name": "Rex", "tag": "horse"}, ("body.tag",), id="not-in-enum"),
        pytest.param("POST", "/pets", {"name": "Rex", "age": 3}, ("age",), id="unknown-property"),
        pytest.param("POST", "/pets", None, ("body",), id="missing-body"),
        pytest.param("GET", "/pets?limit=0", None, ("limit",), id="query-below-minimum"),
        pytest.param("GET", "/pets?limit=many", None, ("limit",), id="query-not-an-integer"),
        pytest.param("GET", "/pets/abc", None, ("petId",), id="path-not-an-integer"),
        pytest.param("GET", "/owners/not-a-uuid", None, ("ownerId",), id="path-not-a-uuid"),
    ],
)
def test_rejects_bad_requests_with_a_clear_message(
    petstore: Served, method: str, path: str, body: object, fragments: tuple[str, ...]
) -> None:
    with petstore.control() as client:
        response = (
            client.request(method, path, json=body) if body is not None else client.request(method, path)
        )
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["status"] == 400
    for fragment in fragments:
        assert fragment in answer["message"], answer["message"]


def test_unknown_paths_and_methods_are_refused(petstore: Served) -> None:
    with petstore.control() as client:
        assert client.get("/dogs").status_code == 404
        assert client.put("/pets").status_code == 405


def test_journal_records_generic_calls(petstore: Served) -> None:
    with petstore.control() as client:
        client.get("/pets")
        client.post("/pets", json={"name": 5})
        calls = client.get("/__mock__/journal").json()["calls"]
    assert [(c["operation_id"], c["status"]) for c in calls] == [("listPets", 200), ("createPet", 400)]


def test_spec_declaring_algolia_credentials_requires_them(serve: ServeFactory, tmp_path: Path) -> None:
    secured = PETSTORE.replace(
        "components:\n",
        "security:\n  - appId: []\n    apiKey: []\ncomponents:\n"
        "  securitySchemes:\n"
        "    appId: {type: apiKey, in: header, name: x-algolia-application-id}\n"
        "    apiKey: {type: apiKey, in: header, name: x-algolia-api-key}\n",
        1,
    )
    spec = tmp_path / "secured.yaml"
    spec.write_text(secured, encoding="utf-8")
    server = serve("--spec", str(spec))
    with server.control() as anonymous:
        assert anonymous.get("/pets").status_code == 403
    with server.client() as client:
        assert client.get("/pets").status_code == 200
