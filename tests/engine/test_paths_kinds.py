from gpulint.engine.kinds import KindTable, guess_plural
from gpulint.engine.paths import format_field_path, parse_field_path


def test_parse_field_path_forms():
    assert parse_field_path("spec.containers[1].env[0].value") == ("spec", "containers", 1, "env", 0, "value")
    assert parse_field_path("metadata.labels['kueue.x-k8s.io/queue-name']") == (
        "metadata", "labels", "kueue.x-k8s.io/queue-name")
    assert parse_field_path("/spec/containers/0/image") == ("spec", "containers", 0, "image")
    assert parse_field_path("") is None
    assert parse_field_path("spec..[x") is None


def test_format_round_trip():
    path = ("spec", "containers", 0, "resources", "limits", "nvidia.com/gpu")
    assert parse_field_path(format_field_path(path)) == path


def test_guess_plural_like_kubernetes():
    assert guess_plural("PyTorchJob") == "pytorchjobs"
    assert guess_plural("NetworkPolicy") == "networkpolicies"
    assert guess_plural("Ingress") == "ingresses"


def test_kind_table_builtin_and_crd():
    table = KindTable()
    assert table.mapping("apps/v1", "Deployment").resource == "deployments"
    assert not table.mapping("v1", "Namespace").namespaced
    assert table.mapping("kubeflow.org/v1", "PyTorchJob").resource == "pytorchjobs"
    unknown = table.mapping("acme.io/v1", "Trainer")
    assert (unknown.resource, unknown.known) == ("trainers", False)
    table.add_crd({"spec": {"group": "acme.io", "scope": "Cluster", "names": {"kind": "Trainer", "plural": "trainerz"}}})
    mapped = table.mapping("acme.io/v1", "Trainer")
    assert (mapped.resource, mapped.namespaced, mapped.known) == ("trainerz", False, True)


def test_without_nulls_prunes_like_the_api_server_and_shares_untouched_objects():
    from gpulint.engine.runner import without_nulls

    clean = {"a": [1, {"b": 2}]}
    assert without_nulls(clean) is clean
    obj = {"spec": {"initContainers": None, "containers": [{"name": "c", "env": None}]}, "keep": clean}
    pruned = without_nulls(obj)
    assert pruned == {"spec": {"containers": [{"name": "c"}]}, "keep": clean}
    assert pruned["keep"] is clean
    assert obj["spec"]["initContainers"] is None  # the loaded object is never modified
