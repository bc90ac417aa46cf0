import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import { requestIdFrom } from '../telemetry/context.js';
import type { Logger } from '../telemetry/logger.js';

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function classify(errCode: string | undefined): { code: ErrorCode; status: number; message: string } {
  if (errCode === 'HPE_HEADER_OVERFLOW') return { code: 'VGL_GATEWAY_HEADERS_TOO_LARGE', status: 431, message: 'request headers are too large' };
  if (errCode === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { code: 'VGL_GATEWAY_REQUEST_TIMEOUT', status: 408, message: 'the request was not received in time' };
  }
  return { code: 'VGL_GATEWAY_BAD_REQUEST', status: 400, message: 'malformed HTTP request' };
}

/**
 * Answers errors node:http raises before (or while) a request is parsed: malformed framing,
 * oversized headers, and clients too slow to send their request (slowloris). A coded JSON body
 * when nothing was answered yet on the socket; otherwise the connection is cut.
 *
 * `active` tells whether a response is under way on the socket: then a raw answer would corrupt
 * it, so a timed-out request with a response not yet started gets a coded answer through that
 * response instead, and one with a response started is cut.
 */
export function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Socket,
  active: ServerResponse | undefined,
  reject: (res: ServerResponse, code: ErrorCode, message: string) => void,
  logger: Logger,
): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const { code, status, message } = classify(err.code);
  if (active) {
    if (active.headersSent) socket.destroy();
    else {
      active.setHeader('connection', 'close');
      reject(active, code, message);
    }
    return;
  }
  const requestId = requestIdFrom(undefined);
  const body = errorBody(code, message, requestId);
  logger.info({ code, parserError: err.code, requestId }, 'rejected malformed request');
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
  );
}
