"""Users' queue item operations: delete, DeleteBulk, manual retry, review, comments, history."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tests.factories import create_queue
from tests.queue_helpers import ODATA, SVC, add_item, counts, item, result, start
from tests.support import Api, assert_error


def test_delete_and_delete_bulk(api: Api, db: Engine) -> None:
    create_queue(api, EnforceUniqueReference=True)
    first = add_item(api, Reference="A")
    second, third = add_item(api, Reference="B"), add_item(api, Reference="C")
    response = api.delete(f"{ODATA}/QueueItems({first['Id']})", folder="Shared")
    assert response.status_code == 204
    assert item(api, first["Id"])["Status"] == "Deleted"
    assert add_item(api, Reference="A")["Status"] == "New"  # a deleted item's reference is free again
    taken = start(api)
    assert taken["Id"] == second["Id"]  # a deleted item is never handed out
    body = {"queueItems": [{"Id": second["Id"]}, {"Id": third["Id"]}, {"Id": 999_999}]}
    answer = api.ok(api.post(f"{ODATA}/QueueItems/{SVC}.DeleteBulk", body, folder="Shared"))
    assert answer["Success"] is False and sorted(answer["FailedItems"]) == sorted([second["Id"], 999_999])
    assert item(api, third["Id"])["Status"] == "Deleted" and item(api, second["Id"])["Status"] == "InProgress"
    baseline = counts(db)
    assert_error(api.delete(f"{ODATA}/QueueItems({second['Id']})", folder="Shared"), 400)  # InProgress
    assert_error(
        api.post(f"{ODATA}/QueueItems/{SVC}.DeleteBulk", {"queueItems": "all"}, folder="Shared"), 400
    )
    assert counts(db) == baseline


def test_manual_retry_review_and_history(api: Api) -> None:
    create_queue(api)
    original = add_item(api, SpecificContent={"x": 1})
    taken = start(api)
    api.ok(result(api, taken["Id"], IsSuccessful=False, ProcessingException={"Type": "BusinessException"}))
    url = f"{ODATA}/QueueItems/{SVC}"
    answer = api.ok(
        api.post(
            f"{url}.SetItemReviewStatus",
            {"status": "InReview", "queueItems": [{"Id": taken["Id"]}]},
            folder="Shared",
        )
    )
    assert answer == {"Success": True, "Message": None, "FailedItems": []}
    assert item(api, taken["Id"])["ReviewStatus"] == "InReview"
    admin_id = api.tenant.admin_user_id
    api.ok(
        api.post(
            f"{url}.SetItemReviewer",
            {"userId": admin_id, "queueItems": [{"Id": taken["Id"]}]},
            folder="Shared",
        )
    )
    reviewed = api.ok(api.get(f"{ODATA}/QueueItems({taken['Id']})?$expand=ReviewerUser", folder="Shared"))
    assert reviewed["ReviewerUserId"] == admin_id and reviewed["ReviewerUser"]["UserName"] == "admin"
    api.ok(api.post(f"{url}.UnsetItemReviewer", {"queueItems": [{"Id": taken["Id"]}]}, folder="Shared"))
    assert item(api, taken["Id"])["ReviewerUserId"] is None
    assert_error(
        api.post(
            f"{url}.SetItemReviewStatus", {"status": "Maybe", "queueItems": [{"Id": 1}]}, folder="Shared"
        ),
        400,
    )
    # manual retry: Retried review status on a failed item
    api.ok(
        api.post(
            f"{url}.SetItemReviewStatus",
            {"status": "Retried", "queueItems": [{"Id": taken["Id"]}]},
            folder="Shared",
        )
    )
    assert item(api, taken["Id"])["Status"] == "Retried"
    history = api.ok(
        api.get(f"{ODATA}/QueueItems({original['Id']})/{SVC}.GetItemProcessingHistory", folder="Shared")
    )
    assert history["value"][0]["Id"] == original["Id"] and len(history["value"]) == 2
    retry = history["value"][1]
    assert (retry["Status"], retry["ManualAncestorId"], retry["ManualRetryNumber"], retry["RetryNumber"]) == (
        "New",
        taken["Id"],
        1,
        0,
    )
    assert retry["SpecificContent"] == {"x": 1} and retry["Key"] == original["Key"]
    last = api.ok(
        api.get(
            f"{ODATA}/QueueItems({original['Id']})/UiPath.Server.Configuration.OData.GetItemLastRetry",
            folder="Shared",
        )
    )
    assert last["Id"] == retry["Id"]
    # a successful or New item cannot be retried
    answer = api.ok(
        api.post(
            f"{url}.SetItemReviewStatus",
            {"status": "Retried", "queueItems": [{"Id": retry["Id"]}]},
            folder="Shared",
        )
    )
    assert answer["FailedItems"] == [retry["Id"]]
    # events of the whole chain
    events = api.ok(
        api.get(
            f"{ODATA}/QueueItemEvents/UiPath.Server.Configuration.OData.GetQueueItemEventsHistory(queueItemId={retry['Id']})",
            folder="Shared",
        )
    )["value"]
    actions = [(e["QueueItemId"], e["Action"], e["Status"]) for e in events]
    assert actions[:3] == [
        (original["Id"], "Create", "New"),
        (original["Id"], "Status", "InProgress"),
        (original["Id"], "Status", "Failed"),
    ]
    assert (retry["Id"], "Retry", "New") in actions and (original["Id"], "Status", "Retried") in actions
    listed = api.ok(
        api.get(f"{ODATA}/QueueItemEvents?$filter=QueueItemId eq {original['Id']}", folder="Shared")
    )
    assert len(listed["value"]) >= 4


def test_comments(api: Api) -> None:
    create_queue(api)
    first = add_item(api)
    comment = api.ok(
        api.post(
            f"{ODATA}/QueueItemComments", {"Text": "looks odd", "QueueItemId": first["Id"]}, folder="Shared"
        ),
        201,
    )
    assert comment["UserName"] == "admin" and comment["QueueItemId"] == first["Id"]
    api.ok(api.put(f"{ODATA}/QueueItemComments({comment['Id']})", {"Text": "fixed"}, folder="Shared"))
    history = api.ok(
        api.get(
            f"{ODATA}/QueueItemComments/UiPath.Server.Configuration.OData.GetQueueItemCommentsHistory(queueItemId={first['Id']})",
            folder="Shared",
        )
    )["value"]
    assert [c["Text"] for c in history] == ["fixed"]
    assert_error(
        api.post(f"{ODATA}/QueueItemComments", {"Text": "x", "QueueItemId": 999_999}, folder="Shared"), 404
    )
    assert_error(api.post(f"{ODATA}/QueueItemComments", {"QueueItemId": first["Id"]}, folder="Shared"), 400)
    assert api.delete(f"{ODATA}/QueueItemComments({comment['Id']})", folder="Shared").status_code == 204
