"""React to changes in the products table, as the AWS tutorial's function does."""


def lambda_handler(event, context):
    for record in event["Records"]:
        name = record["eventName"]
        if name == "INSERT":
            product = record["dynamodb"]["NewImage"]
            print(f"New product added: {product['name']['S']}")
        elif name == "MODIFY":
            old = record["dynamodb"]["OldImage"]
            new = record["dynamodb"]["NewImage"]
            if old.get("price") != new.get("price"):
                print(
                    f"Price of {new['name']['S']} changed: "
                    f"{old['price']['N']} -> {new['price']['N']}"
                )
        elif name == "REMOVE":
            keys = record["dynamodb"]["Keys"]
            print(f"Product removed: {keys['productId']['S']}")
    return {"processed": len(event["Records"])}
