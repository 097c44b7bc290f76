"""Reading and writing the AWS CLI's shared config and credentials files."""
