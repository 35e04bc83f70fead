from gpulint.engine.podtemplates import WorkloadTable

PYTORCHJOB = {
    "apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "metadata": {"name": "llama", "namespace": "ml"},
    "spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "template": {"metadata": {"labels": {"a": "b"}},
                                               "spec": {"containers": [{"name": "pytorch", "image": "x"}]}}},
        "Worker": {"replicas": 3, "template": {"spec": {"containers": [{"name": "pytorch", "image": "y"}]}}},
    }},
}


def test_pytorchjob_templates_become_pods_with_roles():
    views = WorkloadTable().expand(PYTORCHJOB)
    assert [v.role for v in views] == ["Master", "Worker"]
    master = views[0]
    assert master.pod["kind"] == "Pod"
    assert master.pod["metadata"] == {
        "labels": {"a": "b"}, "name": "llama-master", "namespace": "ml",
        "ownerReferences": [{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "name": "llama", "controller": True}]}
    assert master.pod["spec"]["containers"][0]["image"] == "x"
    assert master.template_path == ("spec", "pytorchReplicaSpecs", "Master", "template")
    assert master.map_path(("spec", "containers", 0, "image")) == (
        "spec", "pytorchReplicaSpecs", "Master", "template", "spec", "containers", 0, "image")


def test_jobset_roles_come_from_replicated_job_names():
    jobset = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": {"name": "j"},
              "spec": {"replicatedJobs": [{"name": "workers", "template": {"spec": {"template": {
                  "spec": {"containers": [{"name": "c"}]}}}}}]}}
    views = WorkloadTable().expand(jobset)
    assert [(v.role, v.template_path) for v in views] == [
        ("workers", ("spec", "replicatedJobs", 0, "template", "spec", "template"))]


def test_volcano_job_is_not_confused_with_batch_job():
    batch_job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"tasks": [{"template": {"spec": {}}}]}}
    assert WorkloadTable().expand(batch_job) == []
    volcano = dict(batch_job, apiVersion="batch.volcano.sh/v1alpha1")
    assert len(WorkloadTable().expand(volcano)) == 1


def test_argo_container_template_maps_container_paths():
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"},
                "spec": {"nodeSelector": {"gpu": "yes"}, "templates": [
                    {"name": "train", "container": {"image": "nvcr.io/x", "resources": {}}}]}}
    (view,) = WorkloadTable().expand(workflow)
    assert view.role == "train"
    assert view.pod["spec"]["nodeSelector"] == {"gpu": "yes"}
    assert view.map_path(("spec", "containers", 0, "image")) == ("spec", "templates", 0, "container", "image")


def test_user_workloads_extend_the_table():
    table = WorkloadTable({"Trainer": {"group": "acme.io", "templates": [{"path": "spec.pod", "role": "Main"}]}})
    obj = {"apiVersion": "acme.io/v1", "kind": "Trainer", "metadata": {"name": "t"},
           "spec": {"pod": {"spec": {"containers": []}}}}
    assert [v.role for v in table.expand(obj)] == ["Main"]


def test_nim_service_synthesises_container():
    nim = {"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService", "metadata": {"name": "n"},
           "spec": {"image": {"repository": "nvcr.io/nim/meta/llama3", "tag": "1.0"},
                    "resources": {"limits": {"nvidia.com/gpu": 1}}}}
    (view,) = WorkloadTable().expand(nim)
    assert view.pod["spec"]["containers"][0]["image"] == "nvcr.io/nim/meta/llama3:1.0"


def test_nim_service_user_and_group_become_the_pod_security_context():
    nim = {"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMService", "metadata": {"name": "n"},
           "spec": {"image": {"repository": "nvcr.io/nim/x", "tag": "1"}, "userID": 1000, "groupID": 2000}}
    (view,) = WorkloadTable().expand(nim)
    assert view.pod["spec"]["securityContext"] == {"runAsUser": 1000, "runAsGroup": 2000, "fsGroup": 2000}
