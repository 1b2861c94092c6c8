variable "cluster_name" {
  description = "Name of the EKS cluster"
  type        = string
  default     = "seed"
}

locals {
  vault_injector_port = 8080
}
