from config.queue import task
from webhooks.services import delivery_attempt


@task(queue_name="webhooks")
def webhook_deliver(delivery_id: str) -> str:
    return delivery_attempt(delivery_id)
