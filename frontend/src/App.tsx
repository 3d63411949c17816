import { Navigate, Route, Routes } from 'react-router-dom';
import AIChatPage from './pages/AIChatPage';
import NotFoundPage from './pages/NotFoundPage';

export default function App() {
  return (
    <Routes>
      <Route path="/" element={<Navigate to="/chat" replace />} />
      <Route path="/chat" element={<AIChatPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
