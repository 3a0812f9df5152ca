export {
  FIXTURE_VCF,
  fixtureVcf,
  SHARED_VCF,
  sharedCorpusPresent,
  sharedVcf,
} from '../../src/producer/shared-data.ts';
