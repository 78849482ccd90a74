/** The bootstrap parameters now live in one table owned by HashiStackBootstrap; re-exported for existing imports. */
export { ssmAccess, SSM_PARAMETERS, type SsmAccess } from "../hashistack-bootstrap/parameters";
