declare module 'jsonapi-serializer' {
  export class Serializer {
    constructor(type: string, options: Record<string, unknown>);
    serialize(data: unknown): { data: unknown; included?: unknown[] };
  }
}
