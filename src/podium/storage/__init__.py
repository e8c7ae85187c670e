"""Where bucket files live: Podium's own local folder or an S3-compatible object store."""
