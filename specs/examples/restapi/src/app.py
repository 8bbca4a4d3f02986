"""The items API's handler, behind API Gateway's Lambda proxy integration."""

import json


def handler(event, context):
    items = [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"method": event.get("httpMethod"), "items": items})}
