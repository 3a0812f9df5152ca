/**
 * The closed list of dead-letter error codes. A message that ends on the dead-letter topic carries
 * one of these in its `dlq-error-code` header; the README documents each.
 */
export const DeadLetterCode = {
  /** The value is empty or null (a tombstone): there is nothing to decode. */
  EMPTY_VALUE: 'EMPTY_VALUE',
  /** The value is not valid UTF-8. */
  INVALID_UTF8: 'INVALID_UTF8',
  /** The value is not parseable JSON. */
  INVALID_JSON: 'INVALID_JSON',
  /** The JSON is valid but not an object. */
  NOT_AN_OBJECT: 'NOT_AN_OBJECT',
  /** A required field is absent or null. */
  MISSING_FIELD: 'MISSING_FIELD',
  /** A field has the wrong type or an out-of-range value. */
  INVALID_FIELD: 'INVALID_FIELD',
  /** The `content-type` header names an encoding this pipeline does not accept. */
  UNSUPPORTED_CONTENT_TYPE: 'UNSUPPORTED_CONTENT_TYPE',
  /** An embedding's vector length differs from the table's dimension. */
  DIMENSION_MISMATCH: 'DIMENSION_MISMATCH',
  /** An embedding's vector holds NaN, Infinity or -Infinity. */
  NON_FINITE_VECTOR: 'NON_FINITE_VECTOR',
  /** The value is not a readable Arrow IPC stream, or its schema is not the embedding contract's. */
  INVALID_ARROW: 'INVALID_ARROW',
  /** A variant record has more ALT alleles than `VARSTREAM_MAX_ALTS`. */
  TOO_MANY_ALTS: 'TOO_MANY_ALTS',
  /** A genotype has more alleles than `VARSTREAM_MAX_PLOIDY`. */
  PLOIDY_TOO_HIGH: 'PLOIDY_TOO_HIGH',
  /** A variant message yields more (sample, allele) calls than `VARSTREAM_MAX_CALLS`. */
  TOO_MANY_CALLS: 'TOO_MANY_CALLS',
  /** CHROM, ID, a FILTER, a sample name or a gene is longer than `VARSTREAM_MAX_NAME_BYTES`, or REF or an ALT longer than `VARSTREAM_MAX_ALLELE_BYTES`. */
  FIELD_TOO_LONG: 'FIELD_TOO_LONG',
  /** The INFO object is larger, as JSON, than `VARSTREAM_MAX_INFO_BYTES`. */
  INFO_TOO_LARGE: 'INFO_TOO_LARGE',
  /** The INFO object nests deeper than `VARSTREAM_MAX_INFO_DEPTH`. */
  INFO_TOO_DEEP: 'INFO_TOO_DEEP',
  /** The message is larger than the configured maximum message size (`kafka.maxMessageBytes`). */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /**
   * A sink refused the record (the store rejected its content, e.g. a value it cannot convert).
   * The reason names the sink and quotes its error; the other sinks of the pipeline may hold it.
   */
  SINK_REJECTED: 'SINK_REJECTED',
  /** The decoder failed on input it should have rejected with one of the codes above (a bug). */
  DECODER_FAILED: 'DECODER_FAILED',
} as const;

export type DeadLetterCode = (typeof DeadLetterCode)[keyof typeof DeadLetterCode];

/** A message that cannot be decoded: permanent, so it is dead-lettered instead of retried. */
export class DecodeError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: DeadLetterCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}
