#!/bin/sh
# Prepare MinIO for the pipeline: the lake bucket, and an access key that can use that bucket only.
#
# docker compose's one-shot `minio-init` service runs this (minio/mc image) once MinIO is healthy,
# on every `up`. It logs in as the root user, which only this script and MinIO itself see; the
# pipeline gets its own key, limited by the policy below to listing, reading, writing and deleting
# objects in the lake bucket. Every step is safe to repeat: an existing bucket is kept, and the
# policy and the key's secret are set to what the environment says.
#
# Environment: MINIO_URL, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD, LAKE_BUCKET,
# PIPELINE_S3_ACCESS_KEY_ID, PIPELINE_S3_SECRET_ACCESS_KEY (all required).
set -eu

: "${MINIO_URL:?MINIO_URL is not set}"
: "${MINIO_ROOT_USER:?MINIO_ROOT_USER is not set}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is not set}"
: "${LAKE_BUCKET:?LAKE_BUCKET is not set}"
: "${PIPELINE_S3_ACCESS_KEY_ID:?PIPELINE_S3_ACCESS_KEY_ID is not set}"
: "${PIPELINE_S3_SECRET_ACCESS_KEY:?PIPELINE_S3_SECRET_ACCESS_KEY is not set}"

policy="${LAKE_BUCKET}-readwrite"
policy_file="/tmp/${policy}.json"

mc alias set minio "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "minio/${LAKE_BUCKET}"

cat >"$policy_file" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::${LAKE_BUCKET}"]
    },
    {
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts"
      ],
      "Resource": ["arn:aws:s3:::${LAKE_BUCKET}/*"]
    }
  ]
}
JSON
mc admin policy create minio "$policy" "$policy_file"
mc admin user add minio "$PIPELINE_S3_ACCESS_KEY_ID" "$PIPELINE_S3_SECRET_ACCESS_KEY"

# `policy attach` fails when the policy is attached already (minio/mc#4863): on a rerun that is
# the expected state, any other failure is real.
if ! attached="$(mc admin policy attach minio "$policy" --user "$PIPELINE_S3_ACCESS_KEY_ID" 2>&1)"; then
    case "$attached" in
        *"already in effect"*) echo "Policy ${policy} is already attached to the pipeline's key." ;;
        *) echo "$attached" >&2; exit 1 ;;
    esac
fi
rm -f "$policy_file"
echo "Bucket ${LAKE_BUCKET} is ready; the pipeline's key may use that bucket only."
