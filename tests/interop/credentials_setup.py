"""Set up the checking moto server for run-credentials-interop.sh.

Makes exactly 7 calls (the server's INITIAL_NO_AUTH_ACTION_COUNT): an IAM
user, its access key, an inline policy allowing everything, and two roles
(each with a trust policy anyone may assume and an inline allow-all
policy), since moto honours AssumeRole credentials only for roles that
exist. Prints "ACCESS_KEY_ID SECRET" on stdout.

Usage: credentials_setup.py ENDPOINT
"""

import json
import sys

import boto3

endpoint = sys.argv[1]
iam = boto3.client(
    "iam",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="setup",
    aws_secret_access_key="setup",
)
allow_all = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
trust = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        ],
    }
)
iam.create_user(UserName="interop-user")  # 1
key = iam.create_access_key(UserName="interop-user")["AccessKey"]  # 2
iam.put_user_policy(UserName="interop-user", PolicyName="all", PolicyDocument=allow_all)  # 3
for name in ("interop-role-b", "interop-role-a"):  # 4-7
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=allow_all)
print(key["AccessKeyId"], key["SecretAccessKey"])
