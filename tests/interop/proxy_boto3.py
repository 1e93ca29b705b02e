"""boto3 as a client of `sigv4 proxy` (used by run-proxy-interop.sh).

Usage: proxy_boto3.py ENDPOINT KEY SECRET ACTION [ARGS...]

Actions (each prints one result line on stdout; exit 0 on success):
  create-bucket B        create bucket B
  put B K TEXT           put TEXT as object K
  get B K                print object K
  list B                 print the keys of bucket B, space separated
  put-file B K PATH      upload the file at PATH (streamed from disk)
  get-sha B K            print `LEN SHA256` of object K, read as a stream
  error-code B K         GET object K and print the S3 error code (exit 1 if it succeeds)
"""

import hashlib
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def main() -> int:
    endpoint, key, secret, action, *args = sys.argv[1:]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )
    if action == "create-bucket":
        s3.create_bucket(Bucket=args[0])
        print("created", args[0])
    elif action == "put":
        bucket, k, text = args
        s3.put_object(Bucket=bucket, Key=k, Body=text.encode(), ContentType="text/plain")
        print("put", k)
    elif action == "get":
        bucket, k = args
        print(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode())
    elif action == "list":
        res = s3.list_objects_v2(Bucket=args[0])
        print(" ".join(o["Key"] for o in res.get("Contents", [])))
    elif action == "put-file":
        bucket, k, path = args
        with open(path, "rb") as f:
            s3.put_object(Bucket=bucket, Key=k, Body=f, ContentType="application/octet-stream")
        print("put", k)
    elif action == "get-sha":
        bucket, k = args
        body = s3.get_object(Bucket=bucket, Key=k)["Body"]
        h, n = hashlib.sha256(), 0
        for chunk in iter(lambda: body.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
        print(n, h.hexdigest())
    elif action == "error-code":
        bucket, k = args
        try:
            s3.get_object(Bucket=bucket, Key=k)
        except ClientError as e:
            print(e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
            return 0
        print("no error")
        return 1
    else:
        print("unknown action", action, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
