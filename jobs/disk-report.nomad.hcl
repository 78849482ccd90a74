# A periodic system batch job: once a day, every client of one node class in one datacenter
# prints its Docker data volume usage to the job's logs (`nomad alloc logs`), then exits.
# Targeting: `datacenters` picks the region (Nomad datacenter = AWS region), the constraint
# picks the node class (the spec's client group `nodeClass`).

variable "core_datacenter" {
  description = "The core region's Nomad datacenter; Bitte supplies it."
  type        = string
}

variable "node_class" {
  description = "Node class whose clients report."
  type        = string
  default     = "workers"
}

job "disk-report" {
  datacenters = [var.core_datacenter]
  type        = "sysbatch"

  periodic {
    crons            = ["0 6 * * *"]
    time_zone        = "UTC"
    prohibit_overlap = true
  }

  constraint {
    attribute = "${node.class}"
    value     = var.node_class
  }

  group "report" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "df" {
      driver = "docker"

      config {
        image   = "busybox:1.36"
        command = "/bin/sh"
        args    = ["-c", "echo \"node ${node.unique.name} (${node.class}, ${node.datacenter})\"; df -h /"]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
