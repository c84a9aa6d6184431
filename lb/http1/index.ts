// HTTP/1.x framing for the L7 proxy: heads parsed once into what the proxy acts on, chunked bodies
// tracked (and decoded for HTTP/1.0 clients) as they stream.
export {
  HeadError,
  headEnd,
  leadingEmptyLines,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
} from './head';
export { ChunkedBody, type DataSink } from './chunked';
