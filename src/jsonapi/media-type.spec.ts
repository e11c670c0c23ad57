import { acceptableContentType, acceptsJsonApi, responseMediaType } from './media-type';

describe('JSON:API content negotiation', () => {
  it('accepts JSON:API bodies with ext/profile only, and plain JSON', () => {
    expect(acceptableContentType('application/vnd.api+json')).toBe(true);
    expect(acceptableContentType('application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"')).toBe(true);
    expect(acceptableContentType('application/vnd.api+json; profile="x"')).toBe(true);
    expect(acceptableContentType('application/json; charset=utf-8')).toBe(true);
    expect(acceptableContentType('application/vnd.api+json; charset=utf-8')).toBe(false);
    expect(acceptableContentType('text/plain')).toBe(false);
    expect(acceptableContentType(undefined)).toBe(false);
  });

  it('needs an Accept that allows JSON:API or JSON', () => {
    expect(acceptsJsonApi(undefined)).toBe(true);
    expect(acceptsJsonApi('*/*')).toBe(true);
    expect(acceptsJsonApi('text/html, application/*;q=0.5')).toBe(true);
    expect(acceptsJsonApi('application/json')).toBe(true);
    expect(acceptsJsonApi('text/html')).toBe(false);
    expect(acceptsJsonApi('application/vnd.api+json; charset=utf-8')).toBe(false);
    expect(acceptsJsonApi('application/vnd.api+json; charset=utf-8, application/vnd.api+json')).toBe(true);
    expect(acceptsJsonApi('application/json;q=0')).toBe(false);
  });

  it('answers plain JSON only to clients that ask only for it', () => {
    expect(responseMediaType('application/json')).toMatch(/^application\/json/);
    expect(responseMediaType('application/vnd.api+json, application/json')).toBe('application/vnd.api+json');
    expect(responseMediaType(undefined)).toBe('application/vnd.api+json');
  });
});
