/** Jest setup: cdktf's matchers (`toHaveResourceWithProperties`, … with Terraform's snake_case keys). */
import "cdktf/lib/testing/adapters/jest";
import { Testing } from "cdktf";

Testing.setupJest();
