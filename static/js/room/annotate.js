// Annotation layer (filled in below the viewer); a stub until the toolbar lands.
export class Annotator {
  constructor() {
    this.active = false;
  }

  onEvent() {}
}
