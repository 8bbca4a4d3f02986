"""The example web app's API handler: stores a user and queues a welcome job."""

import json
import os


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"table": os.environ["TABLE"], "queue": os.environ["QUEUE_URL"]})}
