// Drag-and-drop of files anywhere in the window. Dropped files never make the page navigate away,
// even where dropping opens nothing. A drop on an element marked `data-drop-imports` is left to
// that element (the start screen's library imports what lands on it). Runs in the renderer.

import { useEffect, useRef, useState } from 'react';

/** Where files being dragged would go: nowhere (null), the window's handler, or an import zone. */
export type DropTarget = null | 'window' | 'import-zone';

/** The attribute that marks an element handling its own drops. */
const IMPORT_ZONE_SELECTOR = '[data-drop-imports]';

function carriesFiles(event: DragEvent): boolean {
  return event.dataTransfer?.types.includes('Files') ?? false;
}

function inImportZone(event: DragEvent): boolean {
  return event.target instanceof Element && event.target.closest(IMPORT_ZONE_SELECTOR) !== null;
}

/**
 * While `enabled`, files dropped outside an import zone go to `onFiles`; returns where files being
 * dragged over the window would go.
 */
export function useProfileDrop(enabled: boolean, onFiles: (files: readonly File[]) => void): DropTarget {
  const [target, setTarget] = useState<DropTarget>(null);
  const onFilesRef = useRef(onFiles);
  useEffect(() => {
    onFilesRef.current = onFiles;
  }, [onFiles]);

  useEffect(() => {
    // dragenter/dragleave fire for every child crossed: count them to know when the window is left.
    let depth = 0;
    const onDragEnter = (event: DragEvent): void => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      if (enabled) setTarget(inImportZone(event) ? 'import-zone' : 'window');
    };
    const onDragOver = (event: DragEvent): void => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = enabled ? 'copy' : 'none';
      if (enabled) setTarget(inImportZone(event) ? 'import-zone' : 'window');
    };
    const onDragLeave = (event: DragEvent): void => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setTarget(null);
    };
    const onDrop = (event: DragEvent): void => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setTarget(null);
      const files = Array.from(event.dataTransfer?.files ?? []);
      if (enabled && files.length > 0 && !inImportZone(event)) onFilesRef.current(files);
    };
    window.addEventListener('dragenter', onDragEnter);
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('dragleave', onDragLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragenter', onDragEnter);
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('dragleave', onDragLeave);
      window.removeEventListener('drop', onDrop);
      setTarget(null);
    };
  }, [enabled]);
  return target;
}
