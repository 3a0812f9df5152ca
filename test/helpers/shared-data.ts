export { SHARED_VCF, sharedVcf } from '../../src/producer/shared-data.ts';
